/**
 * Liveness means alive, readiness means the database answers (issue 13): when the
 * database stops answering, /ready says 503 within its bound instead of hanging or
 * saying ready, /health (no I/O) still answers, and both recover when it does. The
 * stall is real: dzx reaches a real PostgreSQL through a proxy the test freezes.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { freshDatabase, type TestDatabase } from "../support/database.ts";
import { startDzx, type Dzx } from "../support/dzx.ts";
import { tcpProxy, type TcpProxy } from "../support/tcpProxy.ts";

setDefaultTimeout(60_000);

let db: TestDatabase;
let proxy: TcpProxy;
let dzx: Dzx;

beforeAll(async () => {
  // PostgreSQL even on a PGlite run: an embedded database cannot be stalled from outside
  db = await freshDatabase({ postgres: true });
  const url = new URL(db.env.DATABASE_URL!);
  proxy = tcpProxy(url.hostname, Number(url.port || 5432));
  url.hostname = "127.0.0.1";
  url.port = String(proxy.port);
  dzx = await startDzx({ db, env: { DATABASE_URL: url.toString() } });
}, 60_000);
afterAll(async () => {
  proxy?.thaw();
  await dzx?.stop();
  proxy?.close();
  await db?.drop();
});

/** GET with a client-side bound, so a hang is a failed assertion rather than a stuck test. */
async function get(path: string): Promise<{ status: number; body: any } | "no answer"> {
  try {
    const r = await fetch(`${dzx.url}${path}`, { signal: AbortSignal.timeout(10_000) });
    return { status: r.status, body: await r.json() };
  } catch {
    return "no answer";
  }
}

test("a database that stops answering makes /ready 503 within its bound; /health stays 200; both recover", async () => {
  expect(await get("/ready")).toMatchObject({ status: 200, body: { status: "ready", database: "postgres" } });
  proxy.freeze();
  const stalled = await get("/ready");
  expect(stalled).toMatchObject({ status: 503, body: { status: "unavailable" } });
  expect((stalled as { body: any }).body.message).toContain("did not answer within 2000 ms");
  expect(await get("/health")).toMatchObject({ status: 200, body: { status: "ok" } });
  proxy.thaw();
  let again = await get("/ready");
  // the ping held during the stall is answered on thaw; the next one must be ready
  for (let i = 0; i < 20 && (again === "no answer" || again.status !== 200); i++) again = await get("/ready");
  expect(again).toMatchObject({ status: 200, body: { status: "ready" } });
});
