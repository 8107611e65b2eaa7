/**
 * The admin channel, server side (issue 15.2): a server that holds the embedded database (PGlite
 * is single-process, database/lock.ts) runs the operator CLI's `keys`/`orgs` commands for it.
 * HTTP over a Unix socket in the data directory, mode 0600: only the data directory's owner can
 * reach it, and it is never bound to TCP.
 */
import { chmodSync, rmSync } from "node:fs";
import { join } from "node:path";
import { CliError } from "../cli/flags.ts";
import { isOperatorCommand, runOperatorCommand } from "../cli/operator.ts";
import type { Database } from "../database/index.ts";
import type { Logger } from "../logger.ts";

/** The path the CLI sends its command to. */
export const COMMAND_PATH = "/v1/command";

/** What the CLI sends: `dzx <command> <sub> <args…>`. */
export interface AdminRequest {
  command: string;
  sub?: string;
  args: string[];
}

/** What the server answers: the text to print, or the error and the exit code the CLI ends with. */
export type AdminAnswer = { output: string } | { error: string; exitCode: number };

/** The socket's path in a data directory. */
export function adminSocketPath(dataDir: string): string {
  return join(dataDir, "dzx.sock");
}

/** A listening admin channel. */
export interface AdminSocket {
  path: string;
  /** Stops accepting commands, lets the ones running finish, and removes the socket file. */
  stop(): Promise<void>;
}

function isAdminRequest(v: unknown): v is AdminRequest {
  const r = v as AdminRequest;
  return (
    typeof r === "object" && r !== null && typeof r.command === "string" && (r.sub === undefined || typeof r.sub === "string") &&
    Array.isArray(r.args) && r.args.every((a) => typeof a === "string")
  );
}

/** Runs one command the way main.ts would on its own database: a CliError is exit 2, anything else exit 1. */
async function answer(database: Database, logger: Logger, request: AdminRequest): Promise<AdminAnswer> {
  if (!isOperatorCommand(request.command)) return { error: `Unknown command "${request.command}".`, exitCode: 2 };
  // command and subcommand only: arguments and output may carry a key
  logger.info("operator command", { command: request.command, sub: request.sub, via: "admin socket" });
  try {
    return { output: await runOperatorCommand(database, request.command, request.sub, request.args) };
  } catch (err) {
    if (err instanceof CliError) return { error: err.message, exitCode: 2 };
    logger.error("operator command failed", { command: request.command, sub: request.sub, err });
    return { error: `unexpected error: ${(err as Error)?.message ?? err}`, exitCode: 1 };
  }
}

/**
 * Listens on `<dataDir>/dzx.sock`, replacing a stale socket file left by a process that is gone
 * (the caller holds the data directory's lock). A socket that cannot be made (a path too long for
 * a Unix socket, a read-only directory) costs only the channel: undefined, with a warning.
 */
export function openAdminSocket(dataDir: string, database: Database, logger: Logger): AdminSocket | undefined {
  const path = adminSocketPath(dataDir);
  try {
    return listen(path, database, logger);
  } catch (err) {
    logger.warn("admin socket unavailable: the operator CLI cannot reach this server while it runs", { path, cause: (err as Error).message });
    return undefined;
  }
}

function listen(path: string, database: Database, logger: Logger): AdminSocket {
  rmSync(path, { force: true });
  // created 0600 from the start (no window in which another user could connect), then made sure of
  const umask = process.umask(0o177);
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      unix: path,
      fetch: async (request) => {
        if (request.method !== "POST" || new URL(request.url).pathname !== COMMAND_PATH) return Response.json({ error: "not found" }, { status: 404 });
        let body: unknown;
        try {
          body = await request.json();
        } catch {
          body = undefined;
        }
        if (!isAdminRequest(body)) return Response.json({ error: "expected {command, sub?, args: string[]}" }, { status: 400 });
        return Response.json(await answer(database, logger, body));
      },
      error: () => Response.json({ error: "unexpected error: the admin channel failed" }, { status: 500 }),
    });
  } finally {
    process.umask(umask);
  }
  chmodSync(path, 0o600);
  return {
    path,
    stop: async () => {
      await server.stop();
      rmSync(path, { force: true });
    },
  };
}
