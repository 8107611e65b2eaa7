/**
 * Per-key rate limits (seed 000 "Limits"): 60/min, 600/hour, burst 20 per 10 s by
 * default, configurable per key (CLI --rate) and per org (dzx orgs limits), kept
 * exactly by one actor per key, counted on operations (protocol messages have their
 * own cap: protocolChatter.test.ts). Exceeded → 429 + Retry-After + data.retryAfterMs.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { rawCall, rest, rpc } from "../support/client.ts";
import { freshDatabase } from "../support/database.ts";
import { cliKey, runCli, startDzx, UNLIMITED, type Dzx, type TestKey } from "../support/dzx.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

let dzx: Dzx;
const k: Record<string, TestKey> = {};

/** Keys are made before start; org "beta" gets its own rate through the CLI. */
beforeAll(async () => {
  const db = await freshDatabase();
  k.burstMcp = await cliKey(db, "acme", "all", null);
  k.burstRest = await cliKey(db, "acme", "all", null);
  k.burstMixed = await cliKey(db, "acme", "all", null);
  k.headers = await cliKey(db, "acme", "all", null);
  k.bystander = await cliKey(db, "acme", "all", null);
  k.keyBurst = await cliKey(db, "acme", "all", "burst=3,perMinute=100,perHour=1000");
  k.keyMinute = await cliKey(db, "acme", "all", "burst=100,perMinute=4,perHour=1000");
  k.keyHour = await cliKey(db, "acme", "all", "burst=100,perMinute=100,perHour=2");
  k.unlimited = await cliKey(db, "acme", "all", UNLIMITED);
  k.orgDefault = await cliKey(db, "beta", "all", null);
  k.orgDefaultRest = await cliKey(db, "beta", "all", null);
  k.orgKeyWins = await cliKey(db, "beta", "all", "burst=6");
  k.orgReport = await cliKey(db, "beta", "all", null);
  const set = await runCli(db, ["orgs", "limits", "--org", "beta", "--set", JSON.stringify({ rate: { burst: 4, perMinute: 50 } })]);
  expect(set.code).toBe(0);
  dzx = await startDzx({ db });
}, 120_000);
afterAll(() => dzx?.dispose());

const ping = (key: string) => rpc(dzx.url, key, { jsonrpc: "2.0", id: 1, method: "ping" });
const orgGet = (key: string) => rawCall(dzx.url, key, "dwizi.org.get", {});
const STACK = /\n\s+at\s|\.ts:\d+/;

/** Checks one MCP 429 answer and returns its Retry-After seconds. */
function expectMcp429(r: Awaited<ReturnType<typeof rpc>>, windowSec: number): number {
  expect(r.status).toBe(429);
  const retryAfter = Number(r.headers.get("retry-after"));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(windowSec);
  expect(r.json.jsonrpc).toBe("2.0");
  expect(typeof r.json.error.code).toBe("number");
  expect(r.json.error.message).toMatch(/rate limit/i);
  const ms = r.json.error.data.retryAfterMs;
  expect(typeof ms).toBe("number");
  expect(ms).toBeGreaterThan(0);
  expect(ms).toBeLessThanOrEqual(windowSec * 1000);
  expect(retryAfter).toBe(Math.ceil(ms / 1000));
  expect(r.headers.get("ratelimit-remaining")).toBe("0");
  expect(r.text).not.toMatch(STACK);
  return retryAfter;
}

/** Checks one REST 429 answer. */
function expectRest429(r: Awaited<ReturnType<typeof rest>>, windowSec: number): void {
  expect(r.status).toBe(429);
  const retryAfter = Number(r.headers.get("retry-after"));
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(windowSec);
  expect(r.json.error.code).toBe("RATE_LIMITED");
  expect(r.json.error.retryAfterMs).toBeGreaterThan(0);
  expect(r.json.error.retryAfterMs).toBeLessThanOrEqual(windowSec * 1000);
  expect(retryAfter).toBe(Math.ceil(r.json.error.retryAfterMs / 1000));
  expect(r.headers.get("ratelimit-remaining")).toBe("0");
  expect(r.text).not.toMatch(STACK);
}

describe("default limits (burst 20 per 10 s)", () => {
  test("30 parallel MCP calls: exactly 20 admitted, 10 refused with 429, Retry-After and data.retryAfterMs", async () => {
    const all = await Promise.all(Array.from({ length: 30 }, () => orgGet(k.burstMcp.key)));
    const ok = all.filter((r) => r.status === 200);
    const refused = all.filter((r) => r.status !== 200);
    expect(ok.length).toBe(20);
    expect(refused.length).toBe(10);
    for (const r of ok) {
      expect(r.json.result.isError).toBeFalsy();
      expect(r.json.result.structuredContent.org.name).toBe("acme");
    }
    for (const r of refused) expectMcp429(r, 10);
    // the actor hands out each remaining count exactly once
    const remaining = ok.map((r) => Number(r.headers.get("ratelimit-remaining"))).sort((a, b) => a - b);
    expect(remaining).toEqual(Array.from({ length: 20 }, (_, i) => i));
    for (const r of all) expect(r.headers.get("ratelimit-limit")).toBe("20");
    // still refused right after, on either surface
    expectMcp429(await orgGet(k.burstMcp.key), 10);
    expectRest429(await rest(dzx.url, k.burstMcp.key, "GET", "/org"), 10);
  });

  test("another key of the same org is unaffected", async () => {
    const r = await orgGet(k.bystander.key);
    expect(r.status).toBe(200);
    expect(r.headers.get("ratelimit-remaining")).toBe("19");
  });

  test("30 parallel REST calls: exactly 20 admitted, 10 get {error:{code:RATE_LIMITED, retryAfterMs}}", async () => {
    const all = await Promise.all(Array.from({ length: 30 }, () => rest(dzx.url, k.burstRest.key, "GET", "/org")));
    const ok = all.filter((r) => r.status === 200);
    const refused = all.filter((r) => r.status !== 200);
    expect(ok.length).toBe(20);
    expect(refused.length).toBe(10);
    for (const r of ok) expect(r.json.org.name).toBe("acme");
    for (const r of refused) expectRest429(r, 10);
    const remaining = ok.map((r) => Number(r.headers.get("ratelimit-remaining"))).sort((a, b) => a - b);
    expect(remaining).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  test("MCP and REST share one key's budget: 15 + 15 in parallel → 20 admitted in total", async () => {
    const all = await Promise.all([
      ...Array.from({ length: 15 }, () => orgGet(k.burstMixed.key)),
      ...Array.from({ length: 15 }, () => rest(dzx.url, k.burstMixed.key, "GET", "/org")),
    ]);
    expect(all.filter((r) => r.status === 200).length).toBe(20);
    expect(all.filter((r) => r.status === 429).length).toBe(10);
  });
});

describe("RateLimit-* headers", () => {
  const expectHeaders = (h: Headers, limit: string) => {
    expect(h.get("ratelimit-limit")).toBe(limit);
    expect(h.get("ratelimit-remaining")).toMatch(/^\d+$/);
    const reset = Number(h.get("ratelimit-reset"));
    expect(Number.isInteger(reset)).toBe(true);
    expect(reset).toBeGreaterThanOrEqual(0);
    expect(reset).toBeLessThanOrEqual(10);
  };

  test("on MCP results and REST answers, counting down the key's operations", async () => {
    const key = k.headers.key;
    const a = await orgGet(key);
    expect(a.status).toBe(200);
    expectHeaders(a.headers, "20");
    expect(a.headers.get("ratelimit-remaining")).toBe("19");

    const r = await rest(dzx.url, key, "GET", "/tools");
    expect(r.status).toBe(200);
    expectHeaders(r.headers, "20");
    expect(r.headers.get("ratelimit-remaining")).toBe("18");

    const missing = await rest(dzx.url, key, "GET", "/tools/nope");
    expect(missing.status).toBe(404);
    expectHeaders(missing.headers, "20");
    expect(missing.headers.get("ratelimit-remaining")).toBe("17");
  });

  test("on pings, notifications (202) and protocol errors, counting down the protocol window (10× the rate)", async () => {
    const key = k.headers.key;
    const a = await ping(key);
    expect(a.status).toBe(200);
    expectHeaders(a.headers, "200");
    expect(a.headers.get("ratelimit-remaining")).toBe("199");

    const n = await rpc(dzx.url, key, { jsonrpc: "2.0", method: "notifications/initialized" });
    expect(n.status).toBe(202);
    expectHeaders(n.headers, "200");
    expect(n.headers.get("ratelimit-remaining")).toBe("198");

    const bad = await rpc(dzx.url, key, undefined, { raw: "{not json" });
    expect(bad.json.error.code).toBe(-32700);
    expectHeaders(bad.headers, "200");
    expect(bad.headers.get("ratelimit-remaining")).toBe("197");

    // the operation window is where the previous test left it
    expect((await orgGet(key)).headers.get("ratelimit-remaining")).toBe("16");
  });

  test("initialize answers carry them too", async () => {
    const r = await rpc(dzx.url, k.unlimited.key, {
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get("ratelimit-limit")).toBe("1000000");
    expect(r.headers.get("ratelimit-remaining")).toMatch(/^\d+$/);
    expect(r.headers.get("ratelimit-reset")).toMatch(/^\d+$/);
  });
});

describe("per-key rate (dzx keys create --rate)", () => {
  test("burst=3: three admitted, the fourth refused", async () => {
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) seen.push((await orgGet(k.keyBurst.key)).status);
    expect(seen).toEqual([200, 200, 200, 429, 429]);
    const r = await orgGet(k.keyBurst.key);
    expect(r.headers.get("ratelimit-limit")).toBe("3");
    expectMcp429(r, 10);
  });

  test("perMinute=4: the fifth call in a minute is refused, Retry-After within the minute", async () => {
    const seen: number[] = [];
    for (let i = 0; i < 4; i++) seen.push((await rest(dzx.url, k.keyMinute.key, "GET", "/org")).status);
    expect(seen).toEqual([200, 200, 200, 200]);
    const r = await orgGet(k.keyMinute.key);
    expect(r.headers.get("ratelimit-limit")).toBe("4");
    expectMcp429(r, 60);
    expectRest429(await rest(dzx.url, k.keyMinute.key, "GET", "/org"), 60);
  });

  test("perHour=2: the third call in an hour is refused, Retry-After within the hour", async () => {
    expect((await orgGet(k.keyHour.key)).status).toBe(200);
    expect((await orgGet(k.keyHour.key)).status).toBe(200);
    const r = await orgGet(k.keyHour.key);
    expect(r.headers.get("ratelimit-limit")).toBe("2");
    expectMcp429(r, 3600);
  });

  test("a configured generous rate admits 30 parallel calls", async () => {
    const all = await Promise.all(Array.from({ length: 30 }, () => orgGet(k.unlimited.key)));
    expect(all.every((r) => r.status === 200)).toBe(true);
  });
});

describe("per-org rate (dzx orgs limits --set)", () => {
  test("dwizi.org.get reports the org's rate in force", async () => {
    const r = await rest(dzx.url, k.orgReport.key, "GET", "/org");
    expect(r.status).toBe(200);
    expect(r.json.org.rate).toMatchObject({ burst: 4, perMinute: 50, perHour: 600 });
  });

  test("a key without its own rate gets the org's burst of 4 (MCP)", async () => {
    const all = await Promise.all(Array.from({ length: 10 }, () => orgGet(k.orgDefault.key)));
    expect(all.filter((r) => r.status === 200).length).toBe(4);
    const refused = all.filter((r) => r.status === 429);
    expect(refused.length).toBe(6);
    for (const r of refused) expectMcp429(r, 10);
    expect(all[0].headers.get("ratelimit-limit")).toBe("4");
  });

  test("the org's burst of 4 holds over REST too", async () => {
    const all = await Promise.all(Array.from({ length: 10 }, () => rest(dzx.url, k.orgDefaultRest.key, "GET", "/org")));
    expect(all.filter((r) => r.status === 200).length).toBe(4);
    for (const r of all.filter((r) => r.status !== 200)) expectRest429(r, 10);
  });

  test("a key's own rate wins over the org's (burst=6)", async () => {
    const all = await Promise.all(Array.from({ length: 10 }, () => orgGet(k.orgKeyWins.key)));
    expect(all.filter((r) => r.status === 200).length).toBe(6);
    expect(all.filter((r) => r.status === 429).length).toBe(4);
    expect(all[0].headers.get("ratelimit-limit")).toBe("6");
  });
});
