/**
 * Issue 13, hostile input: a bounded, seeded fuzz of one real dzx — a hosted server
 * (with and without its session), the management MCP and REST — with malformed and
 * mutated requests. Every answer must be under 500, carry a JSON error body (SSE: JSON
 * data lines), and leak no stack or path; afterwards the process must still serve valid
 * keys, have logged every answered call, and be back near its starting memory.
 * Replay a failure with DZX_FUZZ_SEED=<seed printed in the message>.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { managementClient, op, rawCall, rest } from "../support/client.ts";
import { freshDatabase } from "../support/database.ts";
import { cliKey, runCli, startDzx, type Dzx, type TestKey } from "../support/dzx.ts";
import { frameMaker, type Frame } from "../support/fuzzFrames.ts";
import { Rng } from "../support/fuzzRng.ts";
import { rawRequest, type RawAnswer } from "../support/rawHttp.ts";
import { createServer, post, rawSession, type HostedServer } from "../hosted/support.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

const SEED = Number(process.env.DZX_FUZZ_SEED ?? 0x13f00d) >>> 0;
// DZX_FUZZ_ONLY=12,345 sends only those frames of the seed's run and prints them with their answers
const ONLY = process.env.DZX_FUZZ_ONLY ? new Set(process.env.DZX_FUZZ_ONLY.split(",").map(Number)) : null;
const FRAMES = 10_000;
const IN_FLIGHT = 12;
const TIMEOUT_MS = 5_000;
// a bound on the whole run even when the server is slow to refuse (it should take well under a minute)
const BUDGET_MS = 150_000;
// small enough that "just over the limit" is cheap, large enough that 50,000 levels of `[` fit under it
const MAX_BODY = 131_072;
const STACK = /\n\s+at\s|\bat \S+ \(|\.ts:\d+|\/work\/|node_modules/;

let dzx: Dzx;
let key: TestKey;
let admin: Client;
let server: HostedServer;
let sessionId: string;

beforeAll(async () => {
  const db = await freshDatabase();
  key = await cliKey(db, "acme");
  // caps out of the way: a QUOTA_EXCEEDED refusal would hide what a hostile write does past it
  const caps = { tools: 100_000, prompts: 100_000, resources: 100_000, servers: 100_000, partials: 100_000 };
  if ((await runCli(db, ["orgs", "limits", "--org", "acme", "--set", JSON.stringify({ caps })])).code !== 0) throw new Error("orgs limits --set failed");
  dzx = await startDzx({ db, env: { DZX_MAX_BODY_BYTES: String(MAX_BODY), DZX_LOG_LEVEL: "info" } });
  admin = await managementClient(dzx.url, key.key);
  const text = { type: "object", properties: { text: { type: "string" } }, required: ["text"], additionalProperties: false };
  await op(admin, "dwizi.tools.create", { tool: { name: "echo", inputSchema: text, source: "export default async (input) => input.text" } });
  await op(admin, "dwizi.tools.create", { tool: { name: "sink", source: "export default async () => 'ok'" } });
  await op(admin, "dwizi.tools.create", { tool: { name: "scratch", source: "export default async () => 1" } });
  server = await createServer(admin, { name: "Fuzzed", toolIds: ["echo", "sink"] });
  sessionId = await rawSession(server.endpoint, server.token);
}, 120_000);
afterAll(async () => {
  await admin?.close().catch(() => {});
  // a server the fuzz broke may not drain on SIGTERM
  if (dzx) await Promise.race([dzx.stop(), Bun.sleep(10_000).then(() => dzx.kill("SIGKILL"))]);
  await dzx?.dispose();
});

/** The dzx process's resident set, in MiB. */
function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** The body as Transfer-Encoding: chunked, 16 KiB a chunk. */
function chunkedBody(body: Uint8Array): Uint8Array {
  const parts: Buffer[] = [];
  for (let at = 0; at < body.length; at += 16_384) {
    const piece = body.subarray(at, at + 16_384);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), Buffer.from(piece), Buffer.from("\r\n"));
  }
  parts.push(Buffer.from("0\r\n\r\n"));
  return Buffer.concat(parts);
}

function send(frame: Frame): Promise<RawAnswer> {
  const url = new URL(dzx.url);
  const headers = frame.chunked ? { ...frame.headers, "transfer-encoding": "chunked" } : frame.headers;
  const body = frame.body && frame.chunked ? chunkedBody(frame.body) : frame.body;
  return rawRequest(url.hostname, Number(url.port), { method: frame.method, target: frame.path, headers, body, timeoutMs: frame.timeoutMs ?? TIMEOUT_MS, readStreams: frame.method === "POST" });
}

const parses = (s: string) => {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
};
/**
 * The JSON messages of an answer: its body, or the data of each `message` event of an event stream (the legacy
 * `endpoint` event carries a URL; a priming event carries an id and empty data, no message).
 */
function messagesOf(a: RawAnswer, text: string): string[] {
  if (!(a.headers["content-type"] ?? "").includes("text/event-stream")) return [text];
  const events = text.split(/\r?\n\r?\n/).slice(0, a.stream ? -1 : undefined); // a stream read to its head may end mid-event
  return events.flatMap((e) => {
    const lines = e.split(/\r?\n/);
    const event = lines.find((l) => l.startsWith("event:"))?.slice(6).trim() ?? "message";
    const data = lines.filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim());
    return event === "message" && data.some((d) => d !== "") ? data : [];
  });
}

/** What is wrong with an answer, or null. */
function problem(frame: Frame, a: RawAnswer): string | null {
  if (a.timedOut) return `no complete answer within ${frame.timeoutMs ?? TIMEOUT_MS} ms (status ${a.status || "none"})`;
  if (a.status === 0) return `no HTTP answer: ${a.error}`;
  if (a.status >= 500) return `HTTP ${a.status}`;
  const text = new TextDecoder().decode(a.body);
  if (STACK.test(text)) return `stack trace or file path in the body (HTTP ${a.status})`;
  if (frame.method === "HEAD") return null;
  if (a.status >= 400 && text.trim() === "") return `HTTP ${a.status} with an empty body`;
  const sse = (a.headers["content-type"] ?? "").includes("text/event-stream");
  const json = (a.headers["content-type"] ?? "").includes("json");
  if ((a.status >= 400 || json || sse) && text.trim() !== "") {
    const bad = messagesOf(a, text).find((m) => !parses(m));
    if (bad !== undefined) return `HTTP ${a.status}: a body that is not JSON`;
  }
  // a fault the server admits to inside a 200: a JSON-RPC -32603, or an operation's INTERNAL error
  const internal = messagesOf(a, text).some((m) => parses(m) && [JSON.parse(m)].flat().some((r: any) => r?.error?.code === -32603 || r?.result?.structuredContent?.error?.code === "INTERNAL"));
  if (internal) return `HTTP ${a.status} carrying an internal error`;
  if (frame.control) {
    const answered = a.status === 200 && messagesOf(a, text).some((m) => parses(m) && JSON.parse(m)?.result?.content?.[0]?.text === frame.control);
    if (!answered) return `a valid tools/call was not answered with its result (HTTP ${a.status})`;
  }
  return null;
}

interface Failure {
  index: number;
  kind: string;
  target: string;
  why: string;
  status: number;
  body: string;
}

/** Failures grouped by kind and reason: the count and up to 10 distinct examples. */
function report(failures: Failure[]): string {
  const seen = new Map<string, { n: number; f: Failure }>();
  for (const f of failures) {
    const k = `${f.kind.replace(/:\d+$/, "")} @ ${f.target}: ${f.why}`;
    const e = seen.get(k);
    if (e) e.n++;
    else seen.set(k, { n: 1, f });
  }
  // every group's count, an example for the first dozen
  const lines = [...seen.entries()].map(([k, { n, f }], i) => `  ${n}× ${k}${i < 12 ? `\n     e.g. #${f.index} ${f.kind} → ${f.status} ${JSON.stringify(f.body.slice(0, 200))}` : ""}`);
  return `${failures.length} failures in ${seen.size} groups (seed ${SEED}; replay with DZX_FUZZ_SEED=${SEED}):\n${lines.join("\n")}`;
}

test(`${FRAMES}+ malformed frames: no 5xx, JSON errors, no leaks; the server survives and its memory returns`, async () => {
  const url = new URL(dzx.url);
  const make = frameMaker({ hostedPath: new URL(server.endpoint).pathname, hostedToken: server.token, sessionId, key: key.key, maxBodyBytes: MAX_BODY, authority: url.host });
  const rng = new Rng(SEED);
  const generated = [...make.landmarks(), ...Array.from({ length: FRAMES }, () => make.next(rng))].map((frame, index) => ({ frame, index }));
  // frames that may take the server down go last, so a crash cannot hide what the others find
  // every other control call goes with them: a call-log batch lost to a hostile row must lose a control too
  const late = (g: (typeof generated)[number]) => g.frame.late || (g.frame.control !== undefined && g.index % 2 === 1);
  const ordered = [...generated.filter((g) => !late(g)), ...generated.filter(late)];
  const queue = ONLY ? ordered.filter((g) => ONLY.has(g.index)) : ordered;
  if (!ONLY) expect(queue.length).toBeGreaterThanOrEqual(FRAMES);

  const rssStart = rssMiB(dzx.pid);
  const failures: Failure[] = [];
  const controls: string[] = [];
  let sent = 0;
  const spent = new Map<string, number>();
  let dead: string | null = null;
  let budgetLeft: number | undefined;
  const recentLate: string[] = [];
  let probing: Promise<void> | null = null;
  /** After a timeout: does the server still serve a valid key? If not, stop sending. */
  const probe = (after: Frame & { index: number }) =>
    (probing ??= (async () => {
      const live = await Promise.race([rawCall(dzx.url, key.key, "dwizi.org.get", {}).then((r) => r.status === 200, () => false), Bun.sleep(TIMEOUT_MS).then(() => false)]);
      const suspects = recentLate.length ? `; the last deep frames sent: ${recentLate.join(", ")}` : "";
      if (!live) dead ??= `after #${after.index} (${after.kind} @ ${after.target}) timed out, a valid management call got no answer: the server stopped serving valid keys${suspects}`;
      probing = null;
    })());
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < queue.length && !dead) {
        if (performance.now() - started > BUDGET_MS) {
          budgetLeft ??= queue.length - next;
          break;
        }
        const { frame, index } = queue[next++]!;
        if (frame.late && !frame.control && recentLate.push(`#${index} ${frame.kind} @ ${frame.target}`) > 3) recentLate.shift();
        const t0 = performance.now();
        let a = await send(frame);
        // a body refused by its declared size is answered before it is read; a client still writing megabytes
        // into the closed connection can have the answer reset away (EPIPE) — a TCP race, not the server's;
        // the same frame again must then be answered (a server that went down would not answer it either)
        for (let retry = 0; retry < 2 && frame.kind.startsWith("oversize") && a.status === 0 && /EPIPE|ECONNRESET/.test(a.error ?? ""); retry++) a = await send(frame);
        const kind = frame.kind.split(":")[0]!;
        spent.set(kind, (spent.get(kind) ?? 0) + performance.now() - t0);
        sent++;
        if (ONLY) console.log(`#${index}`, { ...frame, body: new TextDecoder().decode(frame.body?.subarray(0, 2000)) }, a.status, new TextDecoder().decode(a.body).slice(0, 2000));
        const why = problem(frame, a);
        if (frame.control && !why) controls.push(frame.control);
        if (why) {
          failures.push({ index, kind: frame.kind, target: frame.target, why, status: a.status, body: new TextDecoder().decode(a.body) });
          if (a.timedOut) await probe({ ...frame, index });
        }
      }
    }),
  );
  const fuzzMs = Math.round(performance.now() - started);
  console.log(`fuzz: ${sent} of ${queue.length} frames in ${fuzzMs} ms, ${failures.length} failures, seed ${SEED}; ms per kind:`,
    Object.fromEntries([...spent].map(([k, v]) => [k, Math.round(v)])));
  if (ONLY) console.log(dzx.output().split("\n").filter((l) => l.includes('"level":"error"')).join("\n"));
  const push = (kind: string, why: string) => failures.push({ index: -1, kind, target: "after the fuzz", why, status: 0, body: "" });
  if (dead) push("liveness", dead);
  if (budgetLeft) push("budget", `${budgetLeft} frames not sent: the run passed its ${BUDGET_MS / 1000} s budget`);

  // afterwards: alive, and serving a valid key on each surface
  const health = await fetch(`${dzx.url}/health`, { signal: AbortSignal.timeout(TIMEOUT_MS) }).then((r) => r.status, () => 0);
  if (health !== 200) push("liveness", `/health answered ${health || "nothing"}`);
  const org = await Promise.race([rest(dzx.url, key.key, "GET", "/org").then((r) => r.status, () => 0), Bun.sleep(TIMEOUT_MS).then(() => 0)]);
  if (org !== 200) push("liveness", `GET /api/v1/org with a valid key answered ${org || "nothing"}`);
  const hostedOk = await Promise.race([
    post(server.endpoint, server.token, { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: { text: "after" } } }, { "mcp-session-id": sessionId })
      .then((r) => r.json?.result?.content?.[0]?.text === "after", () => false),
    Bun.sleep(TIMEOUT_MS).then(() => false),
  ]);
  if (!hostedOk) push("liveness", "a valid hosted tools/call on the fuzzed session was not answered");

  // every answered control call is in the call log (a batch dropped for one hostile row loses the others)
  if (!dead && org === 200) {
    const logged = new Set<string>();
    let before: string | undefined;
    for (let page = 0; page < 40; page++) {
      const r = await rest(dzx.url, key.key, "GET", `/calls?server=${server.id}&limit=500${before ? `&before=${encodeURIComponent(before)}` : ""}`);
      const calls: any[] = r.json?.calls ?? [];
      for (const m of r.text.match(/ctl-[0-9a-z]+/g) ?? []) logged.add(m);
      if (calls.length < 500) break;
      // `before` is strict: a millisecond later keeps the rows that share the last one's time
      before = new Date(Date.parse(calls[calls.length - 1].at) + 1).toISOString();
    }
    const missing = controls.filter((c) => !logged.has(c));
    if (missing.length) push("callLog", `${missing.length} of ${controls.length} answered tools/calls are missing from the call log (e.g. ${missing.slice(0, 3).join(", ")})`);
  }

  // Memory: the largest bodies are 17 MiB and at most IN_FLIGHT are in flight, so transient buffers
  // stay well under 300 MiB; state kept per frame (a session, a body, a parsed tree per request)
  // over 10,000 frames of up to 128 KiB would exceed it. Give the collector time to run first.
  let rssEnd = rssMiB(dzx.pid);
  for (const end = Date.now() + 15_000; !(rssEnd < rssStart + 300) && Date.now() < end; rssEnd = rssMiB(dzx.pid)) await Bun.sleep(250);
  console.log(`fuzz: RSS ${rssStart.toFixed(0)} MiB at start, ${rssEnd.toFixed(0)} MiB after`);
  if (!(rssEnd < rssStart + 300)) push("memory", `RSS ${rssEnd.toFixed(0)} MiB after the fuzz, ${rssStart.toFixed(0)} MiB before (bound: +300 MiB)`);

  expect(failures.length === 0 ? "no failures" : report(failures)).toBe("no failures");
}, 240_000);
