/**
 * `dzx dev <dir>`: serves a folder as an MCP server with the platform's engine
 * and transports — Streamable HTTP (JSON or SSE, sessions, the GET stream, the
 * 2026-07-28 lane) and legacy HTTP+SSE — on `POST /mcp/<name>`, plus `/health`,
 * `/status` and the dashboard at `/`. Binds DZX_HOST:PORT (127.0.0.1:3333);
 * when that listen fails it serves on a Unix socket instead and says so.
 */
import type { Server } from "bun";
import { randomBytes } from "node:crypto";
import { lstatSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import type { Config } from "../config.ts";
import { legacySseEndpoint } from "../http/legacySse.ts";
import { json } from "../http/jsonResponse.ts";
import { methodRefusal } from "../http/methodGuard.ts";
import { malformedPath } from "../http/pathGuard.ts";
import { originGuard } from "../http/originGuard.ts";
import { streamableEndpoint, type EndpointOptions } from "../http/streamable.ts";
import { Drain } from "../mcp/drain.ts";
import { McpEngine } from "../mcp/engine.ts";
import { RequestStateSeal } from "../mcp/requestState.ts";
import { SessionStore } from "../mcp/session.ts";
import { CallHistory } from "./callHistory.ts";
import { requestView } from "./contextFile.ts";
import { dashboardPage } from "./dashboard.ts";
import { devCatalog } from "./devCatalog.ts";
import { DevPool } from "./devPool.ts";
import type { BrokenFile } from "./folder.ts";
import { DEV_GROUP, LiveFolder } from "./liveFolder.ts";
import { where } from "./sourcePosition.ts";

/** A running dev server. */
export interface DevServer {
  /** `http://host:port` or `unix:<path>`. */
  address: string;
  /** The MCP endpoint (`http://…/mcp/<name>`, or its path on the socket). */
  endpoint: string;
  folder: LiveFolder;
  stop(): Promise<void>;
}

/** Variables the tools do not see: dzx's own secrets. */
const HIDDEN_ENV = new Set(["DZX_SECRET_KEY", "DZX_ADMIN_KEY", "DZX_API_KEY", "DATABASE_URL", "REDIS_URL"]);

/** One line per broken file. */
export function brokenLines(broken: BrokenFile[]): string[] {
  return broken.map((b) => `  ✗ ${where(b.file, b)}: ${b.message}`);
}

/** Starts serving `dir`; `say` gets the console lines. */
export async function startDev(dirArg: string, config: Config, say: (line: string) => void): Promise<DevServer> {
  const dir = resolve(dirArg);
  const sessions = new SessionStore({ ttlMs: config.sessionTtlMs, maxPerGroup: config.maxSessionsPerServer });
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !HIDDEN_ENV.has(k)) env[k] = v;
  const pool = await DevPool.start({
    size: config.workers,
    memoryBytes: config.toolMemoryMb << 20,
    perOrgQueue: config.sandboxQueuePerOrg,
    totalQueue: config.sandboxQueue,
    defaults: { timeoutMs: config.toolTimeoutMs },
    askTimeoutMs: config.elicitTimeoutMs,
    native: { env },
  });
  let folder: LiveFolder;
  try {
    folder = await LiveFolder.open(dir, sessions, async (r) => {
      if (r.codeChanged) await pool.recycle();
      const f = folder.current.folder;
      say(`reloaded ${f.manifest.name}: ${f.tools.length} tools, ${f.resources.length} resources, ${f.prompts.length} prompts${r.changed.length ? ` (${r.changed.map((m) => m.split("/")[1]).join(", ")} changed)` : ""}`);
      for (const line of brokenLines(r.broken)) say(line);
    });
  } catch (e) {
    await pool.close();
    throw e;
  }
  const manifest = folder.current.folder.manifest;
  const name = manifest.name;
  const history = new CallHistory();
  const drain = new Drain();
  const engine = new McpEngine(
    { name, version: manifest.version, ...(manifest.description ? { instructions: manifest.description } : {}) },
    drain,
    { requestState: new RequestStateSeal(randomBytes(32), config.elicitTimeoutMs) },
  );
  const guard = originGuard(config);
  const deps = { run: (req: Parameters<DevPool["run"]>[0]) => pool.run(req), timeoutMs: config.toolTimeoutMs, history };
  const options: EndpointOptions<null> = {
    engine,
    sessions,
    limits: config,
    // seed 004's requests call tools without initializing first
    requireSession: false,
    admit: (request) => guard(request) ?? { auth: null, owner: "dev", group: DEV_GROUP, headers: {} },
    catalogFor: (_auth, request) => devCatalog(folder.current, deps, requestView(request)),
    onInternalError: (err) => say(`internal error: ${(err as Error)?.stack ?? String(err)}`),
  };
  const endpoint = streamableEndpoint(options);
  const legacy = legacySseEndpoint(options);
  const base = `/mcp/${name}`;
  const status = () => {
    const f = folder.current.folder;
    return {
      name,
      version: manifest.version,
      endpoint: base,
      tools: f.tools.length,
      resources: f.resources.length,
      prompts: f.prompts.length,
      broken: f.broken.length,
      brokenFiles: f.broken,
      sessions: sessions.inGroup(DEV_GROUP).length,
      calls: history.total,
    };
  };

  const fetch = async (request: Request): Promise<Response> => {
    const refused = methodRefusal(request) ?? malformedPath(request);
    if (refused) return refused;
    const path = new URL(request.url).pathname.replace(/\/+$/, "") || "/";
    const m = request.method;
    if (path === base) {
      if (m === "POST") return endpoint.post(request);
      if (m === "GET") return endpoint.get(request);
      if (m === "DELETE") return endpoint.delete(request);
      return json({ error: { code: "METHOD_NOT_ALLOWED", message: `${m} is not served on ${base}: POST sends messages, GET opens the session's event stream, DELETE ends it` } }, 405, { allow: "GET, POST, DELETE" });
    }
    if (path === `${base}/sse` && m === "GET") return legacy.stream(request);
    if (path === `${base}/messages` && m === "POST") return legacy.message(request);
    if (m === "GET" || m === "HEAD") {
      if (path === "/health") return json({ status: "ok" }, 200);
      if (path === "/status") return json(status(), 200);
      if (path === "/") {
        return new Response(dashboardPage(folder.current.folder, history.recent(), status()), { headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" } });
      }
    }
    return json({ error: { code: "NOT_FOUND", message: `No route for ${m} ${path}: this dev server serves ${base} (MCP), /health, /status and /` } }, 404);
  };
  const serveOptions = {
    fetch,
    development: false,
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    idleTimeout: 120,
    error: (err: Error) => (say(`request failed: ${err.message}`), json({ error: { code: "INTERNAL", message: "Internal error" } }, 500)),
  };

  let server: Server<undefined>;
  let address: string;
  let socketPath: string | undefined;
  try {
    server = Bun.serve({ ...serveOptions, port: config.port, hostname: config.host, reusePort: false });
    address = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${server.port}`;
  } catch (e) {
    socketPath = config.socket ?? `/tmp/dzx-${name}.sock`;
    const reason = (e as NodeJS.ErrnoException).code === "EADDRINUSE" ? "the port is in use" : (e as Error).message;
    try {
      if (lstatSync(socketPath).isSocket()) rmSync(socketPath);
    } catch {}
    try {
      server = Bun.serve({ ...serveOptions, unix: socketPath } as unknown as Parameters<typeof Bun.serve>[0]) as unknown as Server<undefined>;
    } catch (e2) {
      folder.close();
      await pool.close();
      throw new Error(`Cannot listen on ${config.host}:${config.port} (${reason}) nor on the Unix socket ${socketPath}: ${(e2 as Error).message}`);
    }
    address = `unix:${socketPath}`;
    say(`TCP listen on ${config.host}:${config.port} failed (${reason}): serving on the Unix socket ${socketPath} instead (DZX_SOCKET sets it)`);
    say(`  try: curl --unix-socket ${socketPath} http://localhost/status`);
  }
  folder.watch((err) => say(`watch error: ${(err as Error)?.message ?? String(err)}`));
  const f = folder.current.folder;
  const endpointUrl = socketPath ? base : `${address}${base}`;
  say(`dzx dev: serving ${name} ${manifest.version} from ${dir}`);
  say(`  ${f.tools.length} tools, ${f.resources.length} resources, ${f.prompts.length} prompts${f.context ? `, context from ${f.context.rel}` : ""}`);
  for (const line of brokenLines(f.broken)) say(line);
  say(`dzx dev listening on ${socketPath ? `unix:${socketPath} ${base}` : endpointUrl}`);
  if (!socketPath) say(`  dashboard ${address}/   status ${address}/status`);

  let stopping: Promise<void> | undefined;
  return {
    address,
    endpoint: endpointUrl,
    folder,
    stop: () =>
      (stopping ??= (async () => {
        folder.close();
        drain.stopAll();
        sessions.closeAll();
        server.stop(true);
        await pool.close();
        if (socketPath) rmSync(socketPath, { force: true });
      })()),
  };
}
