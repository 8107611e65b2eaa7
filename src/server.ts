/**
 * `dzx start`: binds the port (refusing one in use, http/listener.ts), opens the
 * services, installs the first key on an empty database (firstKey.ts), opens the
 * admin socket on the embedded database (admin/adminSocket.ts), serves, and drains
 * on SIGTERM/SIGINT (shutdown.ts; refusals in http/drainGate.ts).
 */
import { buildApp } from "./app.ts";
import type { Config } from "./config.ts";
import { assignRequestId, requestIds } from "./http/requestId.ts";
import { refuseWhileDraining } from "./http/drainGate.ts";
import { malformedPath } from "./http/pathGuard.ts";
import { drainUnread } from "./http/unreadBody.ts";
import { addressOf, bindListener } from "./http/listener.ts";
import { pathOf } from "./http/mcpEndpoint.ts";
import { json } from "./http/jsonResponse.ts";
import type { Logger } from "./logger.ts";
import { openAdminSocket, type AdminSocket } from "./admin/adminSocket.ts";
import { firstKeyBanner, installFirstKey } from "./firstKey.ts";
import { openServices, type Services } from "./services.ts";
import { shutDown } from "./shutdown.ts";

/** A running dzx. */
export interface Running {
  url: string;
  port: number;
  services: Services;
  stop(): Promise<void>;
}

/** Starts serving; resolves once listening. A port in use stops it before anything else starts (http/listener.ts). */
export async function startServer(config: Config, logger?: Logger): Promise<Running> {
  const listener = bindListener(config);
  const server = listener.server;
  let services: Services;
  try {
    services = await openServices(config, logger);
  } catch (e) {
    server.stop(true);
    throw e;
  }
  let admin: AdminSocket | undefined;
  try {
    const firstKey = await installFirstKey(services.database, config);
    // the embedded database is this process's alone: the operator CLI reaches it through this process
    if (services.database.driver === "pglite") admin = openAdminSocket(config.dataDir, services.database, services.logger);
    const app = buildApp(services);
    const debug = config.logLevel === "debug";
    const nextRequestId = requestIds();
    const drain = services.drain;
    const log = (request: Request, requestId: string, status: number, started: number) =>
      services.logger.debug("request", {
        requestId,
        method: request.method,
        path: pathOf(request.url) || request.url.slice(0, 200),
        status,
        ms: Math.round((performance.now() - started) * 100) / 100,
      });
    /**
     * Counts a request, gives it its id and (at debug level) logs it. A hosted server's POST is
     * the hot path: its id goes in with the answer's other headers (setting it on a built
     * Response costs ~1 µs more), and no async wrapper adds a promise layer.
     */
    const serve = (request: Request, hostedPost = false): Promise<Response> => {
      const started = debug ? performance.now() : 0;
      services.metrics.httpRequests++;
      const requestId = assignRequestId(request, nextRequestId);
      // draining: new work gets 503 while the calls in flight finish (shutdown.ts)
      const refused = drain.draining ? refuseWhileDraining(request) : malformedPath(request);
      if (refused) refused.headers.set("x-request-id", requestId);
      // a body the answer did not read is drained (unreadBody.ts); a hosted POST reads its own, off this hot path's promise chain
      if (refused) drainUnread(request);
      const answer = refused
        ? Promise.resolve(refused)
        : hostedPost
          ? app.hostedPost(request, { "x-request-id": requestId })
          : app.handle(request).then((response) => (response.headers.set("x-request-id", requestId), drainUnread(request), response));
      return debug ? answer.then((response) => (log(request, requestId, response.status, started), response)) : answer;
    };
    listener.serve({
      // the hosted servers' POST skips Elysia's router; every other request goes through fetch
      routes: {
        "/mcp/:name": { POST: (request) => serve(request, request.params.name.startsWith("srv_")) },
        "/api/v1/mcp/servers/:id/protocol": { POST: (request) => serve(request, true) },
      },
      fetch: (request) => serve(request),
      error: (err) => {
        try {
          services.logger.error("request failed outside every handler", { err });
        } catch {}
        return json({ error: { code: "INTERNAL", message: "Internal error" } }, 500);
      },
    });
    const url = `http://${addressOf(config.host, server.port!)}`;
    services.logger.info("dzx listening", { url, database: services.database.driver, managementMcp: config.managementMcp });
    if (firstKey) process.stderr.write(`\n${firstKeyBanner(firstKey, url)}\n\n`);
    let stopping: Promise<void> | undefined;
    return {
      url,
      port: server.port!,
      services,
      // the admin socket first: commands it is running finish while the database is still open
      stop: () => (stopping ??= (admin?.stop() ?? Promise.resolve()).then(() => shutDown(server, services))),
    };
  } catch (e) {
    server.stop(true);
    await admin?.stop();
    await services.close();
    throw e;
  }
}
