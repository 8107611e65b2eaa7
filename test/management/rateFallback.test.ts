/**
 * When the shared rate store fails (Redis down, a database error) management
 * requests still get a clear answer: each process limits keys with its own
 * windows, warns once per outage, counts it in /metrics, and goes back to the
 * shared store once it answers. No stack trace in any answer.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import postgres from "postgres";
import { rawCall, rest } from "../support/client.ts";
import { freshDatabase } from "../support/database.ts";
import { cliKey, startDzx, type Dzx } from "../support/dzx.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

const STACK = /\n\s+at\s|\.ts:\d+/;
const OUTAGE = "shared rate store failed";
const RECOVERED = "shared rate store answers again";

const count = (text: string, needle: string) => text.split(needle).length - 1;

/** The value of one unlabelled sample in /metrics. */
async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\d+)$`, "m").exec(text);
  if (!m) throw new Error(`${name} missing from /metrics`);
  return Number(m[1]);
}

/** Polls `check` until it holds; the event, not a delay, ends the wait. */
async function until(check: () => Promise<boolean>, what: string, tries = 200): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await Bun.sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("Redis unreachable (REDIS_URL names a port nobody listens on)", () => {
  let dzx: Dzx;
  let key: string;
  beforeAll(async () => {
    const db = await freshDatabase();
    key = (await cliKey(db, "acme", "all", null)).key;
    dzx = await startDzx({ db, env: { REDIS_URL: "redis://127.0.0.1:1" } });
  }, 120_000);
  afterAll(() => dzx?.dispose());

  test("30 parallel calls: answered by this process's own window, exactly the burst of 20", async () => {
    const all = await Promise.all(Array.from({ length: 30 }, () => rawCall(dzx.url, key, "dwizi.org.get", {})));
    expect(all.filter((r) => r.status === 200).length).toBe(20);
    const refused = all.filter((r) => r.status !== 200);
    expect(refused.length).toBe(10);
    for (const r of refused) {
      expect(r.status).toBe(429);
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(r.json.error.data.retryAfterMs).toBeGreaterThan(0);
    }
    for (const r of all) expect(r.text).not.toMatch(STACK);
    const restAnswer = await rest(dzx.url, key, "GET", "/org");
    expect(restAnswer.status).toBe(429);
    expect(restAnswer.json.error.code).toBe("RATE_LIMITED");
  });

  test("one warning for the outage, however many requests; /metrics counts them", async () => {
    expect(count(dzx.output(), OUTAGE)).toBe(1);
    expect(dzx.output()).toContain('"backend":"redis"');
    expect(await metric(dzx.url, "dzx_rate_store_outages_total")).toBe(1);
    expect(await metric(dzx.url, "dzx_rate_store_fallbacks_total")).toBeGreaterThanOrEqual(31);
    expect(await metric(dzx.url, "dzx_rate_store_degraded")).toBe(1);
  });
});

describe("PostgreSQL store failing (its table gone), then back", () => {
  let dzx: Dzx;
  let key: string;
  let sql: postgres.Sql;
  beforeAll(async () => {
    const db = await freshDatabase({ postgres: true });
    // room for the calls made while waiting for the recovery
    key = (await cliKey(db, "acme", "all", "burst=500,perMinute=1000,perHour=10000")).key;
    dzx = await startDzx({ db });
    sql = postgres(db.env.DATABASE_URL, { max: 1, onnotice: () => {} });
  }, 120_000);
  afterAll(async () => {
    await sql?.end();
    await dzx?.dispose();
  });

  test("calls are answered throughout: shared, then per process with one warning, then shared again", async () => {
    const call = () => rawCall(dzx.url, key, "dwizi.org.get", {});
    const first = await call();
    expect(first.status).toBe(200);
    expect(first.headers.get("ratelimit-remaining")).toBe("499");
    expect((await sql`select cardinality(log) as n from rate_windows`)[0].n).toBe(1);

    await sql`alter table rate_windows rename to rate_windows_away`;
    for (let i = 0; i < 3; i++) {
      const r = await call();
      expect(r.status).toBe(200);
      expect(r.text).not.toMatch(STACK);
    }
    expect(count(dzx.output(), OUTAGE)).toBe(1);
    expect(dzx.output()).toContain('"backend":"postgres"');
    expect(await metric(dzx.url, "dzx_rate_store_degraded")).toBe(1);

    await sql`alter table rate_windows_away rename to rate_windows`;
    // the store is retried within a second of the last failure; call until a call lands in it
    await until(async () => {
      expect((await call()).status).toBe(200);
      return dzx.output().includes(RECOVERED);
    }, "the shared store to be used again");
    expect(await metric(dzx.url, "dzx_rate_store_degraded")).toBe(0);
    expect(await metric(dzx.url, "dzx_rate_store_outages_total")).toBe(1);
    expect((await sql`select cardinality(log) as n from rate_windows`)[0].n).toBeGreaterThanOrEqual(2);
  });
});
