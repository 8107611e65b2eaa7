/**
 * The HTTP surface: the Elysia app built from the plugins in http/, and the hosted
 * servers' POST for Bun.serve's router. Anything unhandled becomes a JSON error
 * without internals.
 */
import { Elysia } from "elysia";
import { health } from "./http/health.ts";
import { hostedEndpoints, hostedMcp } from "./http/hosted.ts";
import { methodRefusal } from "./http/methodGuard.ts";
import { metrics } from "./http/metrics.ts";
import { managementMcp } from "./http/management.ts";
import { restApi } from "./http/rest.ts";
import { setupPage } from "./http/setupPage.ts";
import { webhooks } from "./http/webhook.ts";
import { requestIdOf } from "./http/requestId.ts";
import { json } from "./http/jsonResponse.ts";
import type { Services } from "./services.ts";

/** The whole HTTP surface of one dzx process. */
export interface App {
  /** Serves any request, routed by Elysia. */
  handle(request: Request): Promise<Response>;
  /**
   * A hosted server's Streamable HTTP POST (`/mcp/srv_<id>`, `/api/v1/mcp/servers/<id>/protocol`),
   * for Bun.serve's native router: the hot path skips Elysia's routing and context.
   * `headers` go on the answer. Never rejects.
   */
  hostedPost(request: Request, headers: Record<string, string>): Promise<Response>;
}

/** Builds the app from the plugins in http/. */
export function buildApp(services: Services): App {
  const internal = (request: Request, code: string, error: unknown, headers?: Record<string, string>) => {
    services.logger.error("unhandled request error", { requestId: requestIdOf(request), code, err: error });
    return json({ error: { code: "INTERNAL", message: "Internal error" } }, 500, headers);
  };
  const hosted = hostedEndpoints(services);
  const app = new Elysia()
    .onError(({ code, error, request }) => {
      if (code === "NOT_FOUND") {
        const url = new URL(request.url);
        return json({ error: { code: "NOT_FOUND", message: `No route for ${request.method} ${url.pathname}` } }, 404);
      }
      if (code === "PARSE" || code === "VALIDATION") return json({ error: { code: "VALIDATION_ERROR", message: "Malformed request" } }, 400);
      return internal(request, String(code), error);
    })
    .use(health(services))
    .use(metrics(services))
    .use(managementMcp(services))
    .use(hostedMcp(hosted))
    .use(restApi(services))
    .use(setupPage(services))
    .use(webhooks(services));
  return {
    handle: (request) => {
      const refused = methodRefusal(request);
      return refused ? Promise.resolve(refused) : app.handle(request);
    },
    hostedPost: (request, headers) => hosted.post(request, headers).catch((err) => internal(request, "UNKNOWN", err, headers)),
  };
}
