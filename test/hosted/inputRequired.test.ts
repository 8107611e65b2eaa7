/**
 * Tools that ask the client on the 2026-07-28 lane (SEP-2322 multi round-trip
 * requests): `@modelcontextprotocol/client` 2.x answers `input_required` with its
 * elicitation and sampling handlers and retries; dzx runs the tool again from the
 * top and hands it the recorded answers in order. The sealed requestState refuses
 * tampering, replay against another server, other arguments, and expiry.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import type { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { managementClient, op } from "../support/client.ts";
import { freshDatabase } from "../support/database.ts";
import { cliKey, startDzx, startWithClients, type Stack } from "../support/dzx.ts";
import { ASK_SAMPLE_PICTURE } from "./askingTools.ts";
import { createServer, post, type HostedServer } from "./support.ts";

setDefaultTimeout(60_000);

const MODERN = "2026-07-28";

/** Asks a name, then samples a greeting for it, then returns text; logs each step so the rounds show in the call log. */
const ASK_THEN_SAMPLE = `export default async (input, context) => {
  console.log("round starts");
  const who = await context.elicit({ message: "Who are you?", requestedSchema: { type: "object", properties: { name: { type: "string", default: "Ada" } }, required: ["name"] } });
  if (who.action !== "accept") return "no name: " + who.action;
  const said = await context.sample({ messages: [{ role: "user", content: { type: "text", text: "Greet " + who.content.name + " in " + input.lang } }], maxTokens: 40 });
  return "greeting for " + who.content.name + ": " + said.content.text;
}`;

let stack: Stack<"admin">;
let admin: V1Client;
let server: HostedServer;
let other: HostedServer;
let code: HostedServer;

beforeAll(async () => {
  stack = await startWithClients({ admin: ["acme"] }, { DZX_WORKERS: "2" });
  admin = stack.clients.admin;
  await op(admin, "dwizi.tools.create", {
    tool: { name: "ask-then-sample", inputSchema: { type: "object", properties: { lang: { type: "string" } }, required: ["lang"] }, source: ASK_THEN_SAMPLE },
  });
  await op(admin, "dwizi.tools.create", { tool: { name: "ask-sample-picture", source: ASK_SAMPLE_PICTURE } });
  await op(admin, "dwizi.tools.create", {
    tool: { name: "polite", source: `export default async (i, c) => { try { await c.elicit({ message: "ok?", requestedSchema: { type: "object", properties: {} } }); return "asked"; } catch (e) { return "refused: " + e.message; } }` },
  });
  server = await createServer(admin, { name: "Asking", toolIds: ["ask-then-sample", "ask-sample-picture", "polite"] });
  other = await createServer(admin, { name: "Other", toolIds: ["ask-then-sample"] });
  code = await createServer(admin, { name: "Asking code", mode: "CODE", toolIds: ["ask-then-sample"] });
}, 60_000);
afterAll(async () => {
  await stack?.dispose();
});

/** A v2 client pinned to the 2026-07-28 lane, with the given capabilities and handlers for what it declares. */
async function modernClient(endpoint: string, token: string, capabilities: Record<string, unknown>, seen: { method: string; params: any }[] = []) {
  const client = new Client({ name: "dzx-mrtr-test", version: "1.0.0" }, { capabilities, versionNegotiation: { mode: { pin: MODERN } } } as never);
  if (capabilities.elicitation) {
    client.setRequestHandler("elicitation/create", async (request: any) => {
      seen.push({ method: "elicitation/create", params: request.params });
      return { action: "accept", content: { name: "Grace" } };
    });
  }
  if (capabilities.sampling) {
    client.setRequestHandler("sampling/createMessage", async (request: any) => {
      seen.push({ method: "sampling/createMessage", params: request.params });
      return { role: "assistant", content: { type: "text", text: "Hello, Grace!" }, model: "test-model", stopReason: "endTurn" };
    });
  }
  await client.connect(new StreamableHTTPClientTransport(new URL(endpoint), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
  return client;
}

/** The envelope every request on this lane carries. */
function meta(capabilities: Record<string, unknown> = { elicitation: {}, sampling: {} }) {
  return { "io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": capabilities, "io.modelcontextprotocol/clientInfo": { name: "raw", version: "1" } };
}

/** A raw tools/call on this lane; `extra` adds inputResponses / requestState. */
function rawCall(s: HostedServer, args: Record<string, unknown>, extra: Record<string, unknown> = {}, id: number | string = 1) {
  return post(s.endpoint, s.token, { jsonrpc: "2.0", id, method: "tools/call", params: { name: "ask-then-sample", arguments: args, _meta: meta(), ...extra } }, { "mcp-protocol-version": MODERN });
}

describe("multi round-trip tool calls", () => {
  test("the v2 client answers input_required with its handlers: the tool elicits, then samples, then returns text (and, through the mcp.* helpers, an image and text)", async () => {
    const seen: { method: string; params: any }[] = [];
    const client = await modernClient(server.endpoint, server.token, { elicitation: {}, sampling: {} }, seen);
    try {
      expect(client.getNegotiatedProtocolVersion()).toBe(MODERN);
      const r = await client.callTool({ name: "ask-then-sample", arguments: { lang: "French" } });
      expect(r.isError).toBeFalsy();
      expect(r.content).toEqual([{ type: "text", text: "greeting for Grace: Hello, Grace!" }]);
      // the request reached the client unchanged, SEP-1034 default included
      expect(seen.map((s) => s.method)).toEqual(["elicitation/create", "sampling/createMessage"]);
      expect(seen[0].params).toMatchObject({ message: "Who are you?", requestedSchema: { type: "object", properties: { name: { type: "string", default: "Ada" } }, required: ["name"] } });
      expect(seen[1].params).toMatchObject({ messages: [{ role: "user", content: { type: "text", text: "Greet Grace in French" } }], maxTokens: 40 });
      const picture = await client.callTool({ name: "ask-sample-picture", arguments: {} });
      expect(picture.content).toEqual([
        { type: "image", data: expect.stringMatching(/^iVBORw0KGgo/), mimeType: "image/png" },
        { type: "text", text: "greeting for Grace: Hello, Grace!" },
      ]);
    } finally {
      await client.close();
    }
    // the code before a question runs once per round: three rounds, two of them stopped at a question
    const { calls } = await op(admin, "dwizi.calls.list", { server: server.id, limit: 20 });
    const rounds = calls.filter((c: any) => c.toolName === "ask-then-sample").slice(0, 3);
    expect(rounds.map((c: any) => c.status).sort()).toEqual(["cancelled", "cancelled", "ok"]);
    expect(rounds.filter((c: any) => c.status === "cancelled").every((c: any) => /input_required/.test(c.error))).toBe(true);
  });

  test("a round answers resultType input_required with the question and a sealed requestState; the retry with the answer goes on", async () => {
    const first = await rawCall(server, { lang: "Dutch" });
    expect(first.status).toBe(200);
    const r1 = first.json.result;
    expect(r1.resultType).toBe("input_required");
    expect(r1.inputRequests).toEqual({ q0: { method: "elicitation/create", params: { message: "Who are you?", requestedSchema: { type: "object", properties: { name: { type: "string", default: "Ada" } }, required: ["name"] } } } });
    expect(typeof r1.requestState).toBe("string");
    const second = await rawCall(server, { lang: "Dutch" }, { inputResponses: { q0: { action: "accept", content: { name: "Ada" } } }, requestState: r1.requestState }, 2);
    const r2 = second.json.result;
    expect(r2.resultType).toBe("input_required");
    expect(Object.keys(r2.inputRequests)).toEqual(["q1"]);
    expect(r2.inputRequests.q1.method).toBe("sampling/createMessage");
    const third = await rawCall(server, { lang: "Dutch" }, { inputResponses: { q1: { role: "assistant", content: { type: "text", text: "Hallo" }, model: "m" } }, requestState: r2.requestState }, 3);
    expect(third.json.result).toMatchObject({ resultType: "complete", content: [{ type: "text", text: "greeting for Ada: Hallo" }] });
  });

  test("a declined elicitation is an answer like any other", async () => {
    const first = await rawCall(server, { lang: "Dutch" });
    const second = await rawCall(server, { lang: "Dutch" }, { inputResponses: { q0: { action: "decline" } }, requestState: first.json.result.requestState }, 2);
    expect(second.json.result).toMatchObject({ resultType: "complete", content: [{ type: "text", text: "no name: decline" }] });
  });

  test("a tampered requestState is refused with a clear JSON-RPC error, and so is a forged one", async () => {
    const state: string = (await rawCall(server, { lang: "Dutch" })).json.result.requestState;
    const [body, tag] = state.split(".");
    const payload = JSON.parse(Buffer.from(body, "base64url").toString());
    // the client claims it answered a question it never was asked
    payload.r = [{ method: "elicitation/create", result: { action: "accept", content: { name: "Mallory" } } }];
    const tampered = `${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${tag}`;
    for (const bad of [tampered, state.slice(0, -2) + (state.endsWith("AA") ? "BB" : "AA"), "not-a-state", 42]) {
      const r = await rawCall(server, { lang: "Dutch" }, { inputResponses: { q0: { action: "accept", content: { name: "Eve" } } }, requestState: bad }, 2);
      expect(r.json.error.code).toBe(-32602);
      expect(r.json.error.message).toMatch(/requestState (was altered, or was not issued by this server|must be the string)/);
    }
  });

  test("a state replayed against another server, with other arguments, or without its answer is refused", async () => {
    const state: string = (await rawCall(server, { lang: "Dutch" })).json.result.requestState;
    const answer = { q0: { action: "accept", content: { name: "Ada" } } };
    const elsewhere = await rawCall(other, { lang: "Dutch" }, { inputResponses: answer, requestState: state }, 2);
    expect(elsewhere.json.error).toMatchObject({ code: -32602, message: "Invalid params: requestState was issued by another server: it cannot be replayed here" });
    const otherArgs = await rawCall(server, { lang: "German" }, { inputResponses: answer, requestState: state }, 3);
    expect(otherArgs.json.error).toMatchObject({ code: -32602, message: "Invalid params: requestState was issued for another tool or other arguments: retry with the request that received it" });
    const noAnswer = await rawCall(server, { lang: "Dutch" }, { requestState: state }, 4);
    expect(noAnswer.json.error.message).toBe(`Invalid params: inputResponses["q0"] must hold the client's answer to the elicitation/create request the last round ended on`);
    const badAnswer = await rawCall(server, { lang: "Dutch" }, { inputResponses: { q0: { action: "maybe" } }, requestState: state }, 5);
    expect(badAnswer.json.error.message).toBe(`Invalid params: inputResponses["q0"]: an elicitation result needs "action": "accept", "decline" or "cancel"`);
    const orphan = await rawCall(server, { lang: "Dutch" }, { inputResponses: answer }, 6);
    expect(orphan.json.error.message).toBe("Invalid params: inputResponses came without the requestState of the input_required result they answer");
  });

  test("a client that declares no elicitation capability gets the clear error, which the tool may catch", async () => {
    const client = await modernClient(server.endpoint, server.token, {});
    try {
      const r = await client.callTool({ name: "polite", arguments: {} });
      expect(r.content).toEqual([{ type: "text", text: `refused: context.elicit: the client did not declare the "elicitation" capability (form mode), so it cannot be asked` }]);
      const uncaught = await client.callTool({ name: "ask-then-sample", arguments: { lang: "x" } });
      expect(uncaught.isError).toBe(true);
      expect((uncaught.content as any)[0].text).toContain(`the client did not declare the "elicitation" capability`);
    } finally {
      await client.close();
    }
  });

  test("in CODE mode a script's tools.x() asks through the same rounds", async () => {
    const seen: { method: string; params: any }[] = [];
    const client = await modernClient(code.endpoint, code.token, { elicitation: {}, sampling: {} }, seen);
    try {
      const r = await client.callTool({ name: "execute", arguments: { code: "const text = await tools['ask-then-sample']({ lang: 'Latin' }); return { text };" } });
      expect(r.isError).toBeFalsy();
      expect(r.structuredContent).toEqual({ text: "greeting for Grace: Hello, Grace!" });
      expect(seen.map((s) => s.method)).toEqual(["elicitation/create", "sampling/createMessage"]);
    } finally {
      await client.close();
    }
  });
});

describe("an expired requestState", () => {
  test("is refused once DZX_ELICIT_TIMEOUT_MS has passed since the round", async () => {
    const short = await startWithClients({ admin: ["acme"] }, { DZX_ELICIT_TIMEOUT_MS: "1" });
    try {
      await op(short.clients.admin, "dwizi.tools.create", { tool: { name: "ask-then-sample", inputSchema: { type: "object", properties: { lang: { type: "string" } } }, source: ASK_THEN_SAMPLE } });
      const s = await createServer(short.clients.admin, { name: "Short", toolIds: ["ask-then-sample"] });
      const state = (await rawCall(s, { lang: "Dutch" })).json.result.requestState;
      await Bun.sleep(5);
      const r = await rawCall(s, { lang: "Dutch" }, { inputResponses: { q0: { action: "accept", content: { name: "Ada" } } }, requestState: state }, 2);
      expect(r.json.error).toMatchObject({ code: -32602, message: "Invalid params: requestState has expired: call the tool again without it" });
    } finally {
      await short.dispose();
    }
  });
});

describe("several processes on one database", () => {
  test("a round begun on one dzx process goes on on another with the same DZX_SECRET_KEY; a process with another key refuses the state", async () => {
    const db = await freshDatabase({ postgres: true });
    const key = await cliKey(db, "acme");
    const a = await startDzx({ db });
    const b = await startDzx({ db });
    const c = await startDzx({ db, env: { DZX_SECRET_KEY: "b".repeat(64) } });
    const admin = await managementClient(a.url, key.key);
    try {
      await op(admin, "dwizi.tools.create", { tool: { name: "ask-then-sample", inputSchema: { type: "object", properties: { lang: { type: "string" } } }, source: ASK_THEN_SAMPLE } });
      const s = await createServer(admin, { name: "Shared", toolIds: ["ask-then-sample"] });
      const on = (d: { url: string }) => ({ ...s, endpoint: s.endpoint.replace(a.url, d.url) });
      const state = (await rawCall(on(a), { lang: "Dutch" })).json.result.requestState;
      const answer = { inputResponses: { q0: { action: "accept", content: { name: "Ada" } } }, requestState: state };
      const onB = await rawCall(on(b), { lang: "Dutch" }, answer, 2);
      expect(onB.json.result).toMatchObject({ resultType: "input_required", inputRequests: { q1: { method: "sampling/createMessage" } } });
      const onC = await rawCall(on(c), { lang: "Dutch" }, answer, 3);
      expect(onC.json.error).toMatchObject({ code: -32602, message: "Invalid params: requestState was altered, or was not issued by this server: call the tool again without it" });
    } finally {
      await admin.close();
      await Promise.all([a.stop(), b.stop(), c.stop()]);
      await db.drop();
    }
  });
});
