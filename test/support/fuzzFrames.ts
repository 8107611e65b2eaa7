/**
 * Malformed and mutated HTTP requests for the hostile-input fuzz test (issue 13):
 * each kind of frame is built from a seeded Rng, so a seed names a whole run.
 */
import type { Rng } from "./fuzzRng.ts";

/** Where a frame goes. */
export type Target = "hosted" | "hosted+session" | "management" | "rest";

/** What the generators need to know about the running dzx. */
export interface FuzzContext {
  hostedPath: string;
  hostedToken: string;
  sessionId: string;
  key: string;
  maxBodyBytes: number;
  /** host:port, for CONNECT's authority form. */
  authority: string;
}

/** One request to send. */
export interface Frame {
  kind: string;
  target: Target;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array;
  /** Send the body with Transfer-Encoding: chunked (no Content-Length). */
  chunked?: boolean;
  /** May take the server down (deep nesting): sent after every other frame so a crash hides nothing. */
  late?: boolean;
  /** A valid hosted tools/call whose marker must be answered and appear in the call log. */
  control?: string;
  /** Seconds this frame may take (default: the runner's). */
  timeoutMs?: number;
}

const enc = new TextEncoder();
const bytes = (s: string) => enc.encode(s);
type Json = Record<string, unknown>;

const INIT = { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "fuzz", version: "1" } };
const rpcReq = (id: unknown, method: string, params?: unknown): Json => ({ jsonrpc: "2.0", id, method, ...(params === undefined ? {} : { params }) });
const call = (name: string, args: unknown, id: unknown = 1) => rpcReq(id, "tools/call", { name, arguments: args });

/** Valid JSON-RPC messages every MCP endpoint understands. */
const PROTOCOL: Json[] = [
  rpcReq(1, "initialize", INIT),
  rpcReq(2, "ping"),
  rpcReq(3, "tools/list"),
  rpcReq(4, "tools/list", { cursor: "MA" }),
  rpcReq(5, "resources/list"),
  rpcReq(6, "resources/templates/list"),
  rpcReq(7, "prompts/list"),
  rpcReq(8, "logging/setLevel", { level: "debug" }),
  rpcReq(9, "completion/complete", { ref: { type: "ref/prompt", name: "x" }, argument: { name: "a", value: "b" } }),
  { jsonrpc: "2.0", method: "notifications/initialized" },
  { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1 } },
];
const HOSTED: Json[] = [
  ...PROTOCOL,
  call("echo", { text: "hi" }),
  call("sink", { anything: [1, 2, { x: "y" }] }),
  rpcReq(10, "tools/call", { name: "echo", arguments: { text: "p" }, _meta: { progressToken: "t1" } }),
  rpcReq(11, "resources/read", { uri: "resource://nope" }),
  rpcReq(12, "prompts/get", { name: "nope", arguments: {} }),
];
// no deletes, rotations or updates of the assets the test relies on: the fuzz must not dismantle its own targets
const MANAGEMENT: Json[] = [
  ...PROTOCOL,
  call("dwizi.org.get", {}),
  call("dwizi.tools.list", { limit: 5 }),
  call("dwizi.tools.get", { slug: "echo" }),
  call("dwizi.mcp.list", {}),
  call("dwizi.calls.list", { limit: 3 }),
  call("dwizi.partials.create", { partial: { name: "Fuzz partial", values: { region: "eu" }, enforced: ["region"] } }),
  call("dwizi.prompts.create", { prompt: { name: "Fuzz prompt", messages: [{ role: "user", content: "Hi {{who}}" }], arguments: [{ name: "who" }] } }),
  call("dwizi.resources.create", { resource: { uri: "resource://fuzz", name: "fuzz", mimeType: "text/plain", text: "x" } }),
  call("dwizi.secrets.set", { name: "FUZZ_SECRET", value: "v" }),
  call("dwizi.tools.update", { slug: "scratch", patch: { description: "d" } }),
  call("dwizi.tools.create", { tool: { name: "Fuzz tool", source: "export default async (i) => i" } }),
];
/** Valid REST writes: [method, path, body]. */
const REST: [string, string, Json][] = [
  ["POST", "/api/v1/tools", { name: "Rest fuzz", source: "export default async () => 1" }],
  ["POST", "/api/v1/partials", { name: "Rest partial", values: { a: 1 } }],
  ["POST", "/api/v1/mcp/servers", { name: "Rest server" }],
  ["PATCH", "/api/v1/tools/scratch", { description: "r" }],
  ["PUT", "/api/v1/secrets/REST_FUZZ", { value: "v" }],
  ["POST", "/api/v1/prompts", { name: "Rest prompt", messages: [{ role: "user", content: "x" }] }],
];

const WEIRD: unknown[] = [null, true, false, 0, -1, 1.5, 1e308, "", "x", "2.0", [], [1], {}, { a: 1 }, [[[]]], "y".repeat(1000), { __proto__: 1 }];
const FIELDS = ["jsonrpc", "id", "method", "params", "params.name", "params.arguments", "params.cursor", "params._meta", "params._meta.progressToken", "params.protocolVersion",
  "params.capabilities", "params.clientInfo", "params.level", "params.uri", "params.arguments.text", "params.arguments.tool", "params.arguments.slug", "params.arguments.limit",
  "params.arguments.partial", "params.arguments.partial.values", "params.arguments.patch", "params.requestId"];
const UNICODE = ["\\u0000", "\\ud800", "\\udfff", "\\udc00\\ud800", "\\uffff", "\\ufffe", "\\u202e", "\\u200f", "\\ufeff", "a\\u0000b", "\\udbff\\udfff", "\u202e\u0645", "\u{10ffff}"];
const BAD_UTF8 = [[0xff], [0xfe, 0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xf4, 0x90, 0x80, 0x80]];
const IDS = ['"' + "i".repeat(40_000) + '"', "1e308", "-0", "123456789012345678901234567890123456789", "-1e-400", "1e309", "9007199254740993", "0.1", '"\\u0000"', "-9e999", "[1]", "{}", "true"];
const METHODS = ["tools.list", "tools/list/", "/tools/list", "tools//list", "TOOLS/LIST", "tools.call", "tools/call/", "__proto__", "constructor", "toString", "hasOwnProperty",
  "valueOf", "prototype", "__proto__/list", "tools/__proto__", "notifications/__proto__", "rpc.discover", "dwizi.org.get", "initialize/", "x".repeat(5000), "ping\n", " ping"];
const TOOL_NAMES = ["__proto__", "constructor", "toString", "echo.", "ECHO", "echo/", "dwizi.__proto__", "dwizi.tools.__proto__", "dwizi.tools.list/", "dwizi..org.get", "hasOwnProperty", "__", "a__b"];
const CONTENT_TYPES = ["text/plain", "application/json; charset=utf-16", "", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json;;;", "*/*", "application/jsonx", "x".repeat(6000)];
const ACCEPTS = ["", "text/html", "*/*", "text/event-stream", "application/json", "text/event-stream;q=0", "application/*", ",,,", "z".repeat(6000)];
const VERSIONS = ["", "2025-13-45", "2026-07-28", "1.0", "2024-11-05", "latest", "2025-06-18, 2025-03-26", "v".repeat(6000), "null"];
// Bun's parser drops the connection on a method it does not know ("FOO", "get") before dzx sees it
const HTTP_METHODS = ["CONNECT", "TRACE", "HEAD", "OPTIONS", "PATCH", "PROPFIND", "PUT", "DELETE", "GET", "MKCOL", "QUERY"];

function setPath(obj: Json, path: string, value: unknown) {
  const keys = path.split(".");
  let at: any = obj;
  for (const k of keys.slice(0, -1)) {
    if (typeof at[k] !== "object" || at[k] === null) at[k] = {};
    at = at[k];
  }
  if (value === undefined) delete at[keys[keys.length - 1]!];
  else at[keys[keys.length - 1]!] = value;
}

/** `depth` levels of arrays or objects around a 1, as JSON text. */
export function nested(depth: number, shape: "array" | "object"): string {
  return shape === "array" ? "[".repeat(depth) + "1" + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
}

/** Builds frames for one dzx; `next(rng)` draws one frame. */
export function frameMaker(ctx: FuzzContext) {
  const auth = (t: Target) => `Bearer ${t.startsWith("hosted") ? ctx.hostedToken : ctx.key}`;
  const pathOf = (t: Target) => (t.startsWith("hosted") ? ctx.hostedPath : "/mcp/dwizi");
  const headersOf = (t: Target): Record<string, string> => ({
    authorization: auth(t),
    "content-type": "application/json",
    ...(t === "rest" ? {} : { accept: "application/json, text/event-stream" }),
    ...(t === "hosted+session" ? { "mcp-session-id": ctx.sessionId, "mcp-protocol-version": "2025-06-18" } : {}),
  });
  const rpcFrame = (kind: string, t: Target, body: string | Uint8Array, extra: Partial<Frame> = {}): Frame => ({
    kind, target: t, method: "POST", path: pathOf(t), headers: headersOf(t), body: typeof body === "string" ? bytes(body) : body, ...extra,
  });
  // a management request costs the server ~10x a hosted one (key, scopes and rate window read from the
  // database every time): weighting toward hosted keeps 10,000 frames well under a minute
  const mcpTarget = (rng: Rng): Exclude<Target, "rest"> => rng.weighted([["hosted", 3], ["hosted+session", 4], ["management", 3]] as const);
  const baseFor = (rng: Rng, t: Target): Json => structuredClone(rng.pick(t === "management" ? MANAGEMENT : HOSTED));
  /** A valid request as [target, method, path, body text] on any surface. */
  const anyValid = (rng: Rng): [Target, string, string, string] => {
    if (rng.chance(0.12)) {
      const [m, p, b] = rng.pick(REST);
      return ["rest", m, p, JSON.stringify(b)];
    }
    const t = mcpTarget(rng);
    return [t, "POST", pathOf(t), JSON.stringify(baseFor(rng, t))];
  };
  /** A padded ping of exactly `n` bytes. */
  const padded = (n: number) => {
    const head = '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"';
    return head + "x".repeat(Math.max(0, n - head.length - 3)) + '"}}';
  };

  const kinds: Record<string, (rng: Rng) => Frame> = {
    truncated: (rng) => {
      const [t, method, path, text] = anyValid(rng);
      return { kind: "truncated", target: t, method, path, headers: headersOf(t), body: bytes(text.slice(0, rng.int(text.length))) };
    },
    wrongType: (rng) => {
      const t = mcpTarget(rng);
      const m = baseFor(rng, t);
      setPath(m, rng.pick(FIELDS), rng.chance(0.1) ? undefined : structuredClone(rng.pick(WEIRD)));
      return rpcFrame("wrongType", t, JSON.stringify(m));
    },
    hugeId: (rng) => {
      const t = mcpTarget(rng);
      const m = baseFor(rng, t);
      const text = JSON.stringify({ ...m, id: "@ID@" }).replace('"@ID@"', rng.pick(IDS));
      return rpcFrame("hugeId", t, text);
    },
    unicode: (rng) => {
      const [t, method, path, text] = anyValid(rng);
      // somewhere inside a string value (after an opening quote), or at the start of the body
      const quotes = [...text.matchAll(/"/g)].map((q) => q.index! + 1);
      const at = rng.chance(0.1) ? 0 : rng.pick(quotes);
      let body: Uint8Array;
      if (rng.chance(0.5)) body = bytes(text.slice(0, at) + rng.pick(UNICODE) + text.slice(at));
      else {
        const b = bytes(text);
        const bad = rng.pick(BAD_UTF8);
        body = new Uint8Array([...b.subarray(0, at), ...bad, ...b.subarray(at)]);
      }
      return { kind: "unicode", target: t, method, path, headers: headersOf(t), body };
    },
    deep: (rng) => {
      const shape = rng.pick(["array", "array", "object"] as const);
      const depth = rng.pick(shape === "array" ? [100, 1000, 5000, 12_000, 20_000, 30_000, 50_000] : [100, 1000, 5000, 12_000, 20_000]);
      const d = nested(depth, shape);
      const where = rng.pick(["top", "params", "hostedArguments", "hostedArguments", "partialValues", "restPartial", "restTool", "id"] as const);
      const late = depth >= 5000;
      // today a deep body costs the server a second or more of CPU: give it time to answer, so the answer is judged
      const timeoutMs = late ? 15_000 : undefined;
      const kind = `deep:${where}:${shape}:${depth}`;
      const t: Target = where === "hostedArguments" ? rng.pick(["hosted", "hosted+session"] as const) : where === "top" || where === "params" || where === "id" ? mcpTarget(rng) : "management";
      if (where === "top") return rpcFrame(kind, t, d, { late, timeoutMs });
      if (where === "params") return rpcFrame(kind, t, `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"x":${d}}}`, { late, timeoutMs });
      if (where === "id") return rpcFrame(kind, t, `{"jsonrpc":"2.0","id":${d},"method":"ping"}`, { late, timeoutMs });
      if (where === "hostedArguments") return rpcFrame(kind, t, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"sink","arguments":{"deep":${d}}}}`, { late, timeoutMs });
      if (where === "partialValues") {
        return rpcFrame(kind, "management", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"dwizi.partials.create","arguments":{"partial":{"name":"Deep ${rng.int(1e9)}","values":{"a":${d}}}}}}`, { late, timeoutMs });
      }
      // unique names: a slug taken by an earlier, shallower create would answer 409 before the deep value is written
      const body = where === "restPartial" ? `{"name":"Deep rest ${rng.int(1e9)}","values":{"a":${d}}}` : `{"name":"Deep tool ${rng.int(1e9)}","source":"export default async () => 1","inputSchema":{"type":"object","x":${d}}}`;
      return { kind, target: "rest", method: "POST", path: where === "restPartial" ? "/api/v1/partials" : "/api/v1/tools", headers: headersOf("rest"), body: bytes(body), late, timeoutMs };
    },
    batch: (rng) => {
      const t = mcpTarget(rng);
      const shape = rng.pick(["empty", "mixed", "large", "nested", "notifications"] as const);
      let items: unknown[];
      if (shape === "empty") items = [];
      else if (shape === "large") items = Array.from({ length: rng.between(500, 1500) }, (_, i) => rpcReq(i, "ping"));
      else if (shape === "nested") items = [[rpcReq(1, "ping")], [], [[]]];
      else if (shape === "notifications") items = Array.from({ length: rng.between(1, 20) }, () => ({ jsonrpc: "2.0", method: "notifications/initialized" }));
      else {
        items = Array.from({ length: rng.between(2, 30) }, (_, i) => {
          const m = baseFor(rng, t);
          if (rng.chance(0.4)) setPath(m, rng.pick(FIELDS), structuredClone(rng.pick(WEIRD)));
          return rng.chance(0.15) ? rng.pick(WEIRD) : { ...m, ...("id" in m ? { id: i } : {}) };
        });
      }
      return rpcFrame(`batch:${shape}`, t, JSON.stringify(items));
    },
    headers: (rng) => {
      const [t, method, path, text] = anyValid(rng);
      const h = headersOf(t);
      const which = rng.pick(["content-type", "accept", "mcp-session-id", "mcp-protocol-version", "authorization", "last-event-id", "origin", "extra"] as const);
      if (which === "content-type") h["content-type"] = rng.pick(CONTENT_TYPES);
      else if (which === "accept") h.accept = rng.pick(ACCEPTS);
      else if (which === "mcp-session-id") h["mcp-session-id"] = rng.pick(["", "x", "00000000-0000-0000-0000-000000000000", "../../etc", ctx.sessionId + "x", "s".repeat(8000), "\u00ff\u00fe"]);
      else if (which === "mcp-protocol-version") h["mcp-protocol-version"] = rng.pick(VERSIONS);
      else if (which === "last-event-id") h["last-event-id"] = rng.pick(["", "-1", "abc", "1".repeat(400), "99999999999999999999"]);
      else if (which === "origin") h.origin = rng.pick(["http://evil.example", "null", "", "http://127.0.0.1:1", "x".repeat(3000)]);
      else if (which === "extra") h[rng.pick(["x-dwizi-key", "x-management-token", "x-request-id", "cookie", "x-forwarded-for", "forwarded"])] = rng.pick(["", ctx.key, "a".repeat(8000), "; ; ;", "\u00e9"]);
      else {
        const token = h.authorization!.slice(7);
        h.authorization = rng.pick(["Bearer", "Bearer ", "bearer " + token, "BEARER " + token, "Basic " + btoa("a:b"), `Bearer ${token} extra`, `Bearer  ${token}`, `Bearer ${token},Bearer ${token}`,
          `Bearer ${token.slice(0, -1)}`, `Bearer ${"t".repeat(8000)}`, "Bearer mcp_", "Bearer dwz_live_", `Token ${token}`, ""]);
      }
      return { kind: `headers:${which}`, target: t, method, path, headers: h, body: bytes(text) };
    },
    oddMethod: (rng) => {
      const t = mcpTarget(rng);
      if (rng.chance(0.3)) return rpcFrame("oddMethod:tool", t, JSON.stringify(call(rng.pick(TOOL_NAMES), {})));
      if (rng.chance(0.2)) return rpcFrame("oddMethod:protoArgs", t, '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"__proto__":{"text":"x"},"constructor":{"prototype":1}}}}');
      return rpcFrame("oddMethod:method", t, JSON.stringify(rpcReq(1, rng.pick(METHODS), rng.chance(0.5) ? {} : undefined)));
    },
    oversize: (rng) => {
      const [t, method, path] = rng.chance(0.7) ? (() => { const m = mcpTarget(rng); return [m, "POST", pathOf(m)] as const; })() : (["rest", "POST", "/api/v1/tools"] as const);
      const chunked = rng.chance(0.5);
      return { kind: `oversize:${chunked ? "chunked" : "length"}`, target: t, method, path, headers: headersOf(t), body: bytes(padded(ctx.maxBodyBytes + rng.between(1, 4096))), chunked };
    },
    flip: (rng) => {
      const [t, method, path, text] = anyValid(rng);
      const b = [...bytes(text)];
      for (let n = rng.between(1, 8); n > 0; n--) {
        const at = rng.int(b.length + 1);
        const op = rng.int(4);
        if (op === 0 && at < b.length) b[at] = b[at]! ^ (1 << rng.int(8));
        else if (op === 1) b.splice(at, 0, rng.chance(0.5) ? rng.pick([0x22, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x5c, 0x00, 0xff]) : rng.int(256));
        else if (op === 2) b.splice(at, 1);
        else b.splice(at, 0, ...b.slice(at, at + rng.between(1, 16)));
      }
      return { kind: "flip", target: t, method, path, headers: headersOf(t), body: new Uint8Array(b) };
    },
    httpMethod: (rng) => {
      const method = rng.pick(HTTP_METHODS);
      const path = rng.pick([ctx.hostedPath, `${ctx.hostedPath}/sse`, `${ctx.hostedPath}/messages?sessionId=x`, "/mcp/dwizi", "/api/v1/tools", "/api/v1/mcp/servers", "/health", "/api/v1/openapi.json", "/"]);
      const t: Target = path.startsWith(ctx.hostedPath) ? "hosted" : path.startsWith("/api") ? "rest" : "management";
      const target = method === "CONNECT" && rng.chance(0.5) ? ctx.authority : path;
      const body = rng.chance(0.3) ? bytes(JSON.stringify(rpcReq(1, "ping"))) : undefined;
      return { kind: `httpMethod:${method}`, target: t, method, path: target, headers: { authorization: auth(t), accept: rng.pick(["application/json, text/event-stream", "*/*"]) }, body };
    },
    restQuery: (rng) => {
      const q = rng.pick(["limit=-1", "limit=0", "limit=abc", "limit=1e308", "limit=99999999999", "limit=", "limit=%00", "limit=%ff", "limit=1&limit=2", "cursor=%%%", "cursor=" + "Q".repeat(3000),
        "before=yesterday", "range=1y", "server=nope", "__proto__=1", "constructor[prototype]=x", "a[b][c]=d", "q=" + "%e2%80%ae".repeat(50), "x=" + "y".repeat(6000)]);
      const path = rng.pick(["/api/v1/tools", "/api/v1/calls", "/api/v1/usage", "/api/v1/usage/timeseries", "/api/v1/mcp/servers", `/api/v1/tools/t_${rng.int(1e9)}`, `/api/v1/mcp/servers/srv_${rng.int(1e9)}`,
        `/api/v1/mcp/servers/srv_${rng.int(1e9)}/tools`, "/api/v1/tools/%ff", "/api/v1/tools/..%2f..%2fetc%2fpasswd", "/api/v1/__proto__", "/api/v1/tools/__proto__", "/api/v1/tools/constructor",
        "/api/v1/partials/nope", "/api/v1/prompts/%00", "/api/v1/audit", "/api/v1/keys/nope/rotate"]);
      const method = path.endsWith("/rotate") ? "POST" : "GET";
      return { kind: "restQuery", target: "rest", method, path: `${path}?${q}`, headers: headersOf("rest") };
    },
    control: (rng) => {
      const t = "hosted+session";
      const marker = `ctl-${rng.int(1e12).toString(36)}`;
      // its own id: a fuzzed notifications/cancelled for id 1 on the same session must not cancel it
      return rpcFrame("control", t, JSON.stringify(call("echo", { text: marker }, marker)), { control: marker });
    },
  };
  const WEIGHTS: [string, number][] = [["truncated", 8], ["wrongType", 14], ["hugeId", 5], ["unicode", 9], ["deep", 2], ["batch", 6], ["headers", 10], ["oddMethod", 7],
    ["oversize", 3], ["flip", 18], ["httpMethod", 6], ["restQuery", 6], ["control", 3]];
  return {
    /** One frame of a random kind. */
    next: (rng: Rng): Frame => kinds[rng.weighted(WEIGHTS)]!(rng),
    /**
     * Frames sent on every run whatever the seed: the cases issue 13 names (deep arguments and
     * partial values, bodies past Bun's 16 MiB backstop, CONNECT/TRACE/HEAD on each target).
     */
    landmarks: (): Frame[] => {
      const big = bytes(padded(17 * 1024 * 1024));
      const deepCall = (depth: number, t: Target) =>
        rpcFrame(`deep:hostedArguments:array:${depth}`, t, `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"sink","arguments":{"deep":${nested(depth, "array")}}}}`, { late: true, timeoutMs: 15_000 });
      const out: Frame[] = [
        rpcFrame("oversize:length:17MiB", "management", big, { timeoutMs: 20_000 }),
        rpcFrame("oversize:chunked:17MiB", "hosted+session", big, { chunked: true, timeoutMs: 20_000 }),
        { kind: "oversize:length:17MiB", target: "rest", method: "POST", path: "/api/v1/tools", headers: headersOf("rest"), body: big, timeoutMs: 20_000 },
        rpcFrame("deep:partialValues:array:30000", "management", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"dwizi.partials.create","arguments":{"partial":{"name":"Deep landmark","values":{"a":${nested(30_000, "array")}}}}}}`, { late: true, timeoutMs: 15_000 }),
        { kind: "deep:restPartial:array:30000", target: "rest", method: "POST", path: "/api/v1/partials", headers: headersOf("rest"), body: bytes(`{"name":"Deep rest landmark","values":{"a":${nested(30_000, "array")}}}`), late: true, timeoutMs: 15_000 },
        deepCall(20_000, "hosted+session"),
        deepCall(25_000, "hosted"),
      ];
      for (const method of ["CONNECT", "TRACE", "HEAD", "OPTIONS", "PATCH", "PROPFIND"]) {
        for (const path of [ctx.hostedPath, `${ctx.hostedPath}/sse`, "/mcp/dwizi", "/api/v1/tools"]) {
          const t: Target = path.startsWith(ctx.hostedPath) ? "hosted" : path.startsWith("/api") ? "rest" : "management";
          out.push({ kind: `httpMethod:${method}`, target: t, method, path, headers: { authorization: auth(t), accept: "application/json, text/event-stream" } });
        }
      }
      return out;
    },
  };
}
