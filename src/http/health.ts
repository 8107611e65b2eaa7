/**
 * Liveness (/health) and readiness (/ready: the database answers, and the process
 * is not draining — a load balancer stops routing to it then).
 */
import { Elysia } from "elysia";
import type { Services } from "../services.ts";
import { DRAIN_RETRY_AFTER } from "./drainGate.ts";
import { json } from "./streamable.ts";

/** Elysia plugin serving /health and /ready. */
export function health(services: Services) {
  return new Elysia({ name: "dzx/health" })
    .get("/health", () => json({ status: "ok" }, 200))
    .get("/ready", async () => {
      if (services.drain.draining) {
        return json({ status: "draining", database: services.database.driver, message: "dzx is shutting down" }, 503, { "retry-after": DRAIN_RETRY_AFTER });
      }
      try {
        await services.database.ping();
        return json({ status: "ready", database: services.database.driver }, 200);
      } catch {
        return json({ status: "unavailable", database: services.database.driver, message: "The database is not reachable" }, 503);
      }
    });
}
