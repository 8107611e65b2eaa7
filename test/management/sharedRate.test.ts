/**
 * Rate windows shared by every process on one database (SPEC "Scale-out", issue 13
 * point 4): two real dzx processes on one PostgreSQL — with the windows in
 * PostgreSQL, then in Redis — admit exactly one key's burst between them.
 * PGlite is single-process, so on a PGlite run this file still uses PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { rawCall } from "../support/client.ts";
import { freshDatabase, type TestDatabase } from "../support/database.ts";
import { cliKey, startDzx, type Dzx } from "../support/dzx.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

const REDIS_URL = "redis://127.0.0.1:6379";
const STACK = /\n\s+at\s|\.ts:\d+/;

/** Two processes on one fresh PostgreSQL database, started with `env`; `key` has the default rate. */
function twoProcesses(env: Record<string, string>) {
  const ctx = { db: undefined as unknown as TestDatabase, a: undefined as unknown as Dzx, b: undefined as unknown as Dzx, key: "" };
  beforeAll(async () => {
    ctx.db = await freshDatabase({ postgres: true });
    // the CLI migrates the new database first: two processes starting at once would both try to
    ctx.key = (await cliKey(ctx.db, "acme", "all", null)).key;
    [ctx.a, ctx.b] = await Promise.all([startDzx({ db: ctx.db, env }), startDzx({ db: ctx.db, env })]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([ctx.a?.stop(), ctx.b?.stop()]);
    await ctx.db?.drop();
  });
  return ctx;
}

/** Fires 50 + 50 concurrent management calls with one default-rate key and checks exactly one burst passes. */
async function expectOneBurst(ctx: ReturnType<typeof twoProcesses>) {
  const key = ctx.key;
  const all = await Promise.all(
    Array.from({ length: 100 }, (_, i) => rawCall(i % 2 ? ctx.b.url : ctx.a.url, key, "dwizi.org.get", {})),
  );
  const ok = all.filter((r) => r.status === 200);
  const refused = all.filter((r) => r.status !== 200);
  expect(ok.length).toBe(20);
  expect(refused.length).toBe(80);
  for (const r of ok) expect(r.json.result.structuredContent.org.name).toBe("acme");
  // each remaining count is handed out once across both processes
  const remaining = ok.map((r) => Number(r.headers.get("ratelimit-remaining"))).sort((x, y) => x - y);
  expect(remaining).toEqual(Array.from({ length: 20 }, (_, i) => i));
  for (const r of refused) {
    expect(r.status).toBe(429);
    const retryAfter = Number(r.headers.get("retry-after"));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(10);
    const ms = r.json.error.data.retryAfterMs;
    expect(ms).toBeGreaterThan(0);
    expect(ms).toBeLessThanOrEqual(10_000);
    expect(retryAfter).toBe(Math.ceil(ms / 1000));
    expect(r.headers.get("ratelimit-remaining")).toBe("0");
    expect(r.text).not.toMatch(STACK);
  }
  // both processes go on refusing the key
  for (const url of [ctx.a.url, ctx.b.url]) expect((await rawCall(url, key, "dwizi.org.get", {})).status).toBe(429);
}

describe("two processes, windows in PostgreSQL", () => {
  const ctx = twoProcesses({});
  test("100 concurrent calls, 50 per process, one key: exactly 20 admitted, 80 refused with 429", () => expectOneBurst(ctx));
});

describe("two processes, windows in Redis (REDIS_URL)", () => {
  const ctx = twoProcesses({ REDIS_URL });
  test("100 concurrent calls, 50 per process, one key: exactly 20 admitted, 80 refused with 429", () => expectOneBurst(ctx));
});
