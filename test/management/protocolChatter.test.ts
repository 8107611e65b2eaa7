/**
 * A key's rate counts operations (a dwizi.* tools/call, a REST call); protocol
 * messages — initialize, ping, notifications, lists, streams — have their own cap
 * of 10× the key's rate in a window of their own (issue 15.8). Keys here have an
 * hour-long burst window so a loaded machine cannot slide a window mid-test.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { managementClient, rawCall, rest, rpc } from "../support/client.ts";
import { freshDatabase } from "../support/database.ts";
import { cliKey, startDzx, type Dzx, type TestKey } from "../support/dzx.ts";

setDefaultTimeout(60_000);

let dzx: Dzx;
const k: Record<string, TestKey> = {};

beforeAll(async () => {
  const db = await freshDatabase();
  k.chatty = await cliKey(db, "acme", "all", "burst=3,burstWindowSec=3600,perMinute=100,perHour=1000");
  k.capped = await cliKey(db, "acme", "all", "burst=2,burstWindowSec=3600,perMinute=100,perHour=1000");
  k.sdk = await cliKey(db, "acme", "all", "burst=5,burstWindowSec=3600,perMinute=100,perHour=1000");
  dzx = await startDzx({ db });
}, 120_000);
afterAll(() => dzx?.dispose());

const STACK = /\n\s+at\s|\.ts:\d+/;
const initialize = (key: string) =>
  rpc(dzx.url, key, { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "chatter", version: "1" } } });
const orgGet = (key: string) => rawCall(dzx.url, key, "dwizi.org.get", {});

/** One reconnect as a client makes it: initialize, notifications/initialized, ping — three protocol messages. */
async function reconnect(key: string): Promise<number[]> {
  const init = await initialize(key);
  const session = { "mcp-session-id": init.headers.get("mcp-session-id") ?? "" };
  const note = await rpc(dzx.url, key, { jsonrpc: "2.0", method: "notifications/initialized" }, { headers: session });
  const ping = await rpc(dzx.url, key, { jsonrpc: "2.0", id: 2, method: "ping" }, { headers: session });
  for (const r of [init, note, ping]) expect(r.headers.get("ratelimit-limit")).toBe("30");
  return [init.status, note.status, ping.status];
}

describe("protocol messages do not spend the operation budget", () => {
  test("30 initialize + notifications + ping pass and the next operations still run, up to the burst of 3", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push(...(await reconnect(k.chatty.key)));
    expect(statuses).toEqual(Array.from({ length: 10 }, () => [200, 202, 200]).flat());

    const ops = [await orgGet(k.chatty.key), await rest(dzx.url, k.chatty.key, "GET", "/org"), await orgGet(k.chatty.key)];
    for (const r of ops) {
      expect(r.status).toBe(200);
      expect(r.headers.get("ratelimit-limit")).toBe("3");
    }
    expect(ops.map((r) => r.headers.get("ratelimit-remaining"))).toEqual(["2", "1", "0"]);

    // operations past the burst are still refused, on both surfaces
    const over = await orgGet(k.chatty.key);
    expect(over.status).toBe(429);
    expect(over.json.error.message).toBe(`Rate limit exceeded for this key; retry after ${over.headers.get("retry-after")}s`);
    expect(over.json.error.data.retryAfterMs).toBeGreaterThan(0);
    const overRest = await rest(dzx.url, k.chatty.key, "GET", "/org");
    expect(overRest.status).toBe(429);
    expect(overRest.json.error.code).toBe("RATE_LIMITED");
  });

  test("the protocol cap trips at 10× the burst (the 31st message) with a clear 429", async () => {
    // k.chatty has sent its 30 protocol messages above
    const r = await rpc(dzx.url, k.chatty.key, { jsonrpc: "2.0", id: 3, method: "ping" });
    expect(r.status).toBe(429);
    expect(r.json.jsonrpc).toBe("2.0");
    expect(r.json.error.message).toMatch(/^Rate limit for protocol messages \(initialize, ping, notifications, lists; 10× the key's rate\) exceeded for this key; retry after \d+s$/);
    const retryAfter = Number(r.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(retryAfter).toBe(Math.ceil(r.json.error.data.retryAfterMs / 1000));
    expect(r.headers.get("ratelimit-limit")).toBe("30");
    expect(r.headers.get("ratelimit-remaining")).toBe("0");
    expect(r.text).not.toMatch(STACK);
    // so are a fresh initialize and a malformed body
    expect((await initialize(k.chatty.key)).status).toBe(429);
    expect((await rpc(dzx.url, k.chatty.key, undefined, { raw: "{not json" })).status).toBe(429);
  });

  test("a key at its protocol cap still runs its operations: the cap never consumes operation budget", async () => {
    const seen: number[] = [];
    for (let i = 0; i < 21; i++) seen.push((await rpc(dzx.url, k.capped.key, { jsonrpc: "2.0", id: i, method: "ping" })).status);
    expect(seen).toEqual([...Array.from({ length: 20 }, () => 200), 429]);
    const ops = [await orgGet(k.capped.key), await rest(dzx.url, k.capped.key, "GET", "/org")];
    expect(ops.map((r) => r.status)).toEqual([200, 200]);
    expect(ops[1].headers.get("ratelimit-remaining")).toBe("0");
    expect((await orgGet(k.capped.key)).status).toBe(429);
  });

  test("an SDK client that reconnects, pings and lists five times still gets its five operations", async () => {
    for (let i = 0; i < 5; i++) {
      const client = await managementClient(dzx.url, k.sdk.key);
      await client.ping();
      await client.ping();
      expect((await client.listTools()).tools.length).toBeGreaterThan(0);
      await client.close();
    }
    const client = await managementClient(dzx.url, k.sdk.key);
    for (let i = 0; i < 5; i++) {
      const r = await client.callTool({ name: "dwizi.org.get", arguments: {} });
      expect(r.isError).toBeFalsy();
    }
    const err = await client.callTool({ name: "dwizi.org.get", arguments: {} }).then(
      () => null,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(/Rate limit exceeded for this key/);
    await client.close();
  });
});
