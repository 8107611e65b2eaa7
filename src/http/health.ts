/**
 * Liveness (/health) and readiness (/ready: the database answers).
 */
import { Elysia } from "elysia";
import type { Services } from "../services.ts";
import { json } from "./streamable.ts";

/** Elysia plugin serving /health and /ready. */
export function health(services: Services) {
  return new Elysia({ name: "dzx/health" })
    .get("/health", () => json({ status: "ok" }, 200))
    .get("/ready", async () => {
      try {
        await services.database.ping();
        return json({ status: "ready", database: services.database.driver }, 200);
      } catch {
        return json({ status: "unavailable", database: services.database.driver, message: "The database is not reachable" }, 503);
      }
    });
}
