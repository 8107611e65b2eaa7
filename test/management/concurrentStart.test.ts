/**
 * Many processes on one PostgreSQL (SPEC "Scale-out") may start at the same moment on
 * an empty database: migrations are applied once, under a lock, and every process
 * comes up. Without the lock, two processes raced to create the same tables and one
 * failed to start.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { freshDatabase, type TestDatabase } from "../support/database.ts";
import { startDzx, type Dzx } from "../support/dzx.ts";

setDefaultTimeout(120_000);

let db: TestDatabase | undefined;
const started: Dzx[] = [];
afterAll(async () => {
  await Promise.all(started.map((d) => d.stop()));
  await db?.drop();
});

test("three processes started together on an empty PostgreSQL database all come up, the schema migrated once", async () => {
  // PostgreSQL even on a PGlite run: an embedded database belongs to one process
  db = await freshDatabase({ postgres: true });
  const results = await Promise.allSettled([1, 2, 3].map(() => startDzx({ db })));
  for (const r of results) if (r.status === "fulfilled") started.push(r.value);
  expect(results.map((r) => (r.status === "fulfilled" ? "up" : String((r as PromiseRejectedResult).reason).slice(0, 300)))).toEqual(["up", "up", "up"]);
  for (const d of started) expect((await fetch(`${d.url}/ready`)).status).toBe(200);
});
