/**
 * The process's listening socket, bound exclusively and before anything else
 * starts (issue 15.1). Bun.serve given method routes binds with SO_REUSEPORT
 * unless `reusePort: false` is set, so a second dzx on a busy port would start
 * and the kernel would split connections between the two. Bound first, a busy
 * port stops `dzx start` before a database, worker or key is touched; until the
 * services are open (`serve`), every request gets 503.
 */
import type { Server } from "bun";
import { ConfigError, type Config } from "../config.ts";
import { unavailable } from "./drainGate.ts";
import { json } from "./jsonResponse.ts";

/** What the open services answer with, installed by `Listener.serve`. */
export interface Handlers {
  /** Bun's native routes (the hot path); `fetch` answers everything else. */
  routes: Record<string, { POST: (request: Request & { params: Record<string, string> }) => Response | Promise<Response> }>;
  fetch(request: Request): Response | Promise<Response>;
  /** A fault no handler caught. */
  error(err: Error): Response;
}

/** A bound port: answers 503 until `serve` installs the handlers. */
export interface Listener {
  readonly server: Server<undefined>;
  /** Starts answering with `handlers`. */
  serve(handlers: Handlers): void;
}

const STARTING = "dzx is starting: retry in a moment";

/** How the address reads in messages: host:port, an IPv6 host bracketed. */
export function addressOf(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** Binds `config.host:config.port`, refusing (ConfigError naming host and port) one another process listens on. */
export function bindListener(config: Pick<Config, "host" | "port">): Listener {
  let server: Server<undefined>;
  try {
    server = Bun.serve({
      port: config.port,
      hostname: config.host,
      // exclusive: with SO_REUSEPORT a second process would bind the same port and share its traffic
      reusePort: false,
      fetch: (request) => unavailable(request, STARTING, 1),
      // a fault no handler caught: Bun's development page would show its message and stack
      development: false,
      error: () => json({ error: { code: "INTERNAL", message: "Internal error" } }, 500),
      // our own reader enforces DZX_MAX_BODY_BYTES with a JSON 413 (before reading a declared length, and
      // as a chunked body passes it); Bun's own cap would answer first, with an empty 413
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      idleTimeout: 120,
    });
  } catch (e) {
    const where = addressOf(config.host, config.port);
    if ((e as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new ConfigError(
        `Cannot listen on ${where}: the port is already in use (another dzx or another program listens there). ` +
          `Stop it, or start dzx with another PORT (or DZX_HOST).`,
      );
    }
    throw new ConfigError(`Cannot listen on ${where} (DZX_HOST=${config.host} PORT=${config.port}): ${(e as Error).message}`);
  }
  return {
    server,
    serve: (handlers) => void server.reload(handlers),
  };
}
