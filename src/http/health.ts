/**
 * Liveness (/health: the event loop answers, no I/O) and readiness (/ready: the
 * process is not draining and the database answers within READY_TIMEOUT_MS, else 503 — a stuck database must not
 * look like a healthy instance to a load balancer or a container healthcheck).
 */
import { Elysia } from "elysia";
import type { Services } from "../services.ts";
import { DRAIN_RETRY_AFTER } from "./drainGate.ts";
import { json } from "./jsonResponse.ts";

/** How long /ready waits for the database before it answers 503. */
export const READY_TIMEOUT_MS = 2000;

/** Resolves with the database's answer, or "timeout" after `ms`. */
function within(ms: number, work: Promise<void>): Promise<"ok" | "timeout"> {
  let timer: Timer | undefined;
  const late = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), ms)));
  return Promise.race([work.then(() => "ok" as const), late]).finally(() => clearTimeout(timer));
}

/** Elysia plugin serving /health and /ready. */
export function health(services: Services) {
  const driver = services.database.driver;
  return new Elysia({ name: "dzx/health" })
    .get("/health", () => json({ status: "ok" }, 200))
    .get("/ready", async () => {
      if (services.drain.draining) {
        return json({ status: "draining", database: driver, message: "dzx is shutting down" }, 503, { "retry-after": DRAIN_RETRY_AFTER });
      }
      try {
        if ((await within(READY_TIMEOUT_MS, services.database.ping())) === "ok") return json({ status: "ready", database: driver }, 200);
        return json({ status: "unavailable", database: driver, message: `The database did not answer within ${READY_TIMEOUT_MS} ms` }, 503, { "retry-after": "5" });
      } catch {
        return json({ status: "unavailable", database: driver, message: "The database is not reachable" }, 503, { "retry-after": "5" });
      }
    });
}
