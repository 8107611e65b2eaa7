/**
 * Builds the Elysia app from the plugins in http/. Anything unhandled becomes a
 * JSON error without internals.
 */
import { Elysia } from "elysia";
import { health } from "./http/health.ts";
import { hostedMcp } from "./http/hosted.ts";
import { metrics } from "./http/metrics.ts";
import { managementMcp } from "./http/management.ts";
import { restApi } from "./http/rest.ts";
import { requestIdOf } from "./http/requestId.ts";
import { json } from "./http/streamable.ts";
import type { Services } from "./services.ts";

/** The whole HTTP surface of one dzx process. */
export function buildApp(services: Services) {
  return new Elysia()
    .onError(({ code, error, request }) => {
      if (code === "NOT_FOUND") {
        const url = new URL(request.url);
        return json({ error: { code: "NOT_FOUND", message: `No route for ${request.method} ${url.pathname}` } }, 404);
      }
      if (code === "PARSE" || code === "VALIDATION") return json({ error: { code: "VALIDATION_ERROR", message: "Malformed request" } }, 400);
      services.logger.error("unhandled request error", { requestId: requestIdOf(request), code: String(code), err: error });
      return json({ error: { code: "INTERNAL", message: "Internal error" } }, 500);
    })
    .use(health(services))
    .use(metrics(services))
    .use(managementMcp(services))
    .use(hostedMcp(services))
    .use(restApi(services));
}
