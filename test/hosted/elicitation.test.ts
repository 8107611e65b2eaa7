/**
 * Tools that ask the client on the 2025 lanes: the SDK v1 Client, with elicitation
 * and sampling handlers, over Streamable HTTP. context.elicit / context.sample go
 * out as server→client requests on the call's stream and the client's answers come
 * back into the tool; a client without the capability gets the clear error;
 * cancelling a waiting call withdraws its question and frees everything; the wait
 * has its own limit (DZX_ELICIT_TIMEOUT_MS).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { CreateMessageRequestSchema, ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { op } from "../support/client.ts";
import { startWithClients, type Stack } from "../support/dzx.ts";
import { ASK_SAMPLE_PICTURE } from "./askingTools.ts";
import { createServer, eventually, hostedClient, metric, type HostedServer } from "./support.ts";

setDefaultTimeout(60_000);

/** Asks a name, then samples a greeting for it, then returns text. */
const ASK_THEN_SAMPLE = `export default async (input, context) => {
  const who = await context.elicit({ message: "Who are you?", requestedSchema: { type: "object", properties: { name: { type: "string", default: "Ada" } }, required: ["name"] } });
  if (who.action !== "accept") return "no name: " + who.action;
  const said = await context.sample({ messages: [{ role: "user", content: { type: "text", text: "Greet " + who.content.name } }], maxTokens: 40, systemPrompt: "Be brief" });
  return "greeting for " + who.content.name + ": " + said.content.text + " (" + said.model + ")";
}`;

/** Reports what asking did, so a test can read a refusal without the call failing. */
const POLITE = `export default async (i, c) => {
  try { return "answered: " + JSON.stringify(await c.elicit({ message: "ok?", requestedSchema: { type: "object", properties: {} } })); }
  catch (e) { return "refused: " + e.message; }
}`;

/** A hosted client with elicitation and sampling handlers; `hold` keeps elicitations unanswered until the test answers them. */
async function askingClient(endpoint: string, token: string, opts: { hold?: boolean } = {}) {
  const client = await hostedClient(endpoint, token, { elicitation: {}, sampling: {} });
  const asked: { params: any; signal: AbortSignal; answer(v: unknown): void }[] = [];
  client.setRequestHandler(ElicitRequestSchema, (request, extra) => {
    if (!opts.hold) return { action: "accept", content: { name: "Grace" } } as never;
    return new Promise((resolve) => asked.push({ params: request.params, signal: extra.signal, answer: resolve as never }));
  });
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => ({
    role: "assistant",
    content: { type: "text", text: `Hello, ${String((request.params.messages[0]!.content as { text: string }).text).replace("Greet ", "")}!` },
    model: "test-model",
    stopReason: "endTurn",
  }));
  return { client, asked };
}

/** Resolves once the async predicate holds, polling; rejects after 10 s. */
async function until(predicate: () => Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(25);
  }
}

describe("the 2025 lanes", () => {
  let stack: Stack<"admin">;
  let admin: Client;
  let server: HostedServer;
  let code: HostedServer;

  beforeAll(async () => {
    stack = await startWithClients({ admin: ["acme"] }, { DZX_WORKERS: "2" });
    admin = stack.clients.admin;
    await op(admin, "dwizi.tools.create", { tool: { name: "ask-then-sample", source: ASK_THEN_SAMPLE } });
    await op(admin, "dwizi.tools.create", { tool: { name: "ask-sample-picture", source: ASK_SAMPLE_PICTURE } });
    await op(admin, "dwizi.tools.create", { tool: { name: "polite", source: POLITE } });
    server = await createServer(admin, { name: "Asking", toolIds: ["ask-then-sample", "ask-sample-picture", "polite"] });
    code = await createServer(admin, { name: "Asking code", mode: "CODE", toolIds: ["ask-then-sample"] });
  }, 60_000);
  afterAll(async () => {
    await stack?.dispose();
  });

  test("a tool elicits, then samples, then returns an image and text: each request reaches the client's handler and its answer the tool", async () => {
    const { client } = await askingClient(server.endpoint, server.token);
    const seen: string[] = [];
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      seen.push(JSON.stringify(request.params));
      return { action: "accept", content: { name: "Grace" } };
    });
    try {
      const r = await client.callTool({ name: "ask-sample-picture", arguments: {} });
      expect(r.isError).toBeFalsy();
      expect(r.content).toEqual([
        { type: "image", data: expect.stringMatching(/^iVBORw0KGgo/), mimeType: "image/png" },
        { type: "text", text: "greeting for Grace: Hello, Grace!" },
      ]);
      // requestedSchema went through unchanged, its SEP-1034 default included
      expect(JSON.parse(seen[0]!)).toEqual({ message: "Who are you?", requestedSchema: { type: "object", properties: { name: { type: "string", default: "Ada" } }, required: ["name"] } });
    } finally {
      await client.close();
    }
  });

  test("a client that declared neither capability gets the clear error, which the tool may catch; uncaught it is the call's error", async () => {
    const client = await hostedClient(server.endpoint, server.token);
    try {
      const caught = await client.callTool({ name: "polite", arguments: {} });
      expect(caught.content).toEqual([{ type: "text", text: `refused: context.elicit: the client did not declare the "elicitation" capability (form mode), so it cannot be asked` }]);
      const uncaught = await client.callTool({ name: "ask-then-sample", arguments: {} });
      expect(uncaught.isError).toBe(true);
      expect((uncaught.content as { text: string }[])[0]!.text).toContain(`context.elicit: the client did not declare the "elicitation" capability`);
    } finally {
      await client.close();
    }
  });

  test("a client's error answer reaches the tool as an error it may catch", async () => {
    const client = await hostedClient(server.endpoint, server.token, { elicitation: {} });
    client.setRequestHandler(ElicitRequestSchema, async () => {
      throw new Error("the user closed the dialog");
    });
    try {
      const r = await client.callTool({ name: "polite", arguments: {} });
      expect((r.content as { text: string }[])[0]!.text).toMatch(/^refused: context\.elicit failed: The client refused the request: .*the user closed the dialog/);
    } finally {
      await client.close();
    }
  });

  test("in CODE mode a tool called from a script asks the script's client", async () => {
    const { client } = await askingClient(code.endpoint, code.token);
    try {
      const r = await client.callTool({ name: "execute", arguments: { code: "return { text: await tools['ask-then-sample']({}) };" } });
      expect(r.isError).toBeFalsy();
      expect(r.structuredContent).toEqual({ text: "greeting for Grace: Hello, Grace! (test-model)" });
    } finally {
      await client.close();
    }
  });

  test("cancelling a call while it waits withdraws its question from the client and frees its place", async () => {
    const { client, asked } = await askingClient(server.endpoint, server.token, { hold: true });
    try {
      const abort = new AbortController();
      const call = client.callTool({ name: "ask-then-sample", arguments: {} }, undefined, { signal: abort.signal });
      call.catch(() => {});
      await eventually(() => asked.length === 1, 10_000, "the elicitation request");
      expect(await metric(stack.dzx.url, "dzx_sandbox_asking_calls")).toBe(1);
      abort.abort();
      await expect(call).rejects.toThrow();
      // dzx tells the client its question is no longer wanted, and keeps nothing of the call
      await eventually(() => asked[0]!.signal.aborted, 10_000, "notifications/cancelled for the elicitation");
      await until(async () => (await metric(stack.dzx.url, "dzx_sandbox_asking_calls")) === 0 && (await metric(stack.dzx.url, "dzx_sandbox_parked_calls")) === 0, "the call's place freed");
      const { calls } = await op(admin, "dwizi.calls.list", { server: server.id, limit: 5 });
      expect(calls.find((c: any) => c.toolName === "ask-then-sample")?.status).toBe("cancelled");
      // the same session goes on, and asks again
      const next = client.callTool({ name: "polite", arguments: {} });
      await eventually(() => asked.length === 2, 10_000, "the next elicitation");
      asked[1]!.answer({ action: "decline" });
      expect((await next).content).toEqual([{ type: "text", text: `answered: {"action":"decline"}` }]);
    } finally {
      await client.close();
    }
  });
});

describe("DZX_ELICIT_TIMEOUT_MS", () => {
  test("a question not answered in time rejects in the tool with a clear error, and the client is told to stop asking", async () => {
    const stack = await startWithClients({ admin: ["acme"] }, { DZX_ELICIT_TIMEOUT_MS: "500", DZX_TOOL_TIMEOUT_MS: "20000" });
    try {
      await op(stack.clients.admin, "dwizi.tools.create", { tool: { name: "polite", source: POLITE } });
      const s = await createServer(stack.clients.admin, { name: "Slow", toolIds: ["polite"] });
      const { client, asked } = await askingClient(s.endpoint, s.token, { hold: true });
      try {
        const r = await client.callTool({ name: "polite", arguments: {} });
        expect(r.content).toEqual([{ type: "text", text: "refused: context.elicit: the client did not answer within 500 ms (DZX_ELICIT_TIMEOUT_MS)" }]);
        expect(asked).toHaveLength(1);
        await eventually(() => asked[0]!.signal.aborted, 10_000, "notifications/cancelled for the elicitation");
      } finally {
        await client.close();
      }
    } finally {
      await stack.dispose();
    }
  });
});
