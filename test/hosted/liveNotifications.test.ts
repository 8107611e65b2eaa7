/**
 * Notifications reach the client while the tool runs (issue 14, point 6), by one
 * rule: a POST whose client takes JSON and SSE is answered as JSON when the result
 * comes first, and turns into an SSE stream at the first notification; a client that
 * takes only JSON gets them on the session's GET stream. Each test holds the tool at
 * a gate and sees the notifications arrive before it lets the tool finish.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { messages, SseReader } from "../support/sseReader.ts";
import { call, openGet, postStreaming, setLevel, gatedStackPerFile } from "./gatedServer.ts";
import { hostedClient, post, rawSession } from "./support.ts";

setDefaultTimeout(60_000);

const stackOf = gatedStackPerFile();

const isResult = (m: any) => m?.result !== undefined || m?.error !== undefined;

describe("a client that takes JSON and SSE", () => {
  test("a log line and a progress notification arrive on the call's stream before the tool returns; then the rest and the result", async () => {
    const { server, gates } = stackOf();
    const sid = await rawSession(server.endpoint, server.token, "2025-11-25");
    const res = await postStreaming(server, sid, call(1, "gated", { name: "sse", gate: gates.url("sse") }, { progressToken: "p-sse" }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const sse = new SseReader(res.body);
    const before = await sse.until((b) => b.json?.method === "notifications/progress", "the progress notification");
    // the tool is still waiting at its gate: nothing it sent was held back until it returned
    await gates.reached("sse");
    expect(gates.waiting("sse")).toBe(true);
    expect(before[0]).toMatchObject({ data: "", retry: 1000 });
    expect(before[0].id).toMatch(/^\d+-\d+$/);
    expect(messages(before)).toEqual([
      { jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: { tool: "gated", message: "started sse" } } },
      { jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: "p-sse", progress: 1, total: 2, message: "at the gate" } },
    ]);
    gates.open("sse");
    const after = messages(await sse.rest());
    expect(after.map((m) => m.method ?? "result")).toEqual(["notifications/message", "result"]);
    expect(after[0].params.data.message).toBe("finished sse");
    expect(after[1]).toMatchObject({ id: 1, result: { content: [{ type: "text", text: "done sse" }] } });
  });

  test("a call that sends nothing before its result is answered as plain JSON", async () => {
    const { server } = stackOf();
    const sid = await rawSession(server.endpoint, server.token, "2025-11-25");
    const r = await post(server.endpoint, server.token, call(2, "quiet", {}), { "mcp-session-id": sid });
    expect(r.headers.get("content-type")).toStartWith("application/json");
    expect(r.json).toMatchObject({ id: 2, result: { content: [{ type: "text", text: "quiet" }] } });
  });

  test("logging/setLevel filters log lines, and a call whose lines are all filtered stays JSON", async () => {
    const { server } = stackOf();
    const sid = await rawSession(server.endpoint, server.token, "2025-11-25");
    await setLevel(server, sid, "error");
    const quietCall = await post(server.endpoint, server.token, call(3, "chatty", { lines: 3 }), { "mcp-session-id": sid });
    expect(quietCall.headers.get("content-type")).toStartWith("application/json");
    expect(quietCall.json.result.content[0].text).toBe("said 3");
    await setLevel(server, sid, "debug");
    const res = await postStreaming(server, sid, call(4, "chatty", { lines: 3 }));
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const all = messages(await new SseReader(res.body).rest());
    expect(all.map((m) => m.params?.data?.message ?? "result")).toEqual(["line 0", "line 1", "line 2", "result"]);
  });

  test("the SDK v1 client's logging handler sees the tool's log line while callTool is still pending", async () => {
    const { server, gates } = stackOf();
    const client = await hostedClient(server.endpoint, server.token);
    try {
      const logged = Promise.withResolvers<unknown>();
      client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => logged.resolve(n.params.data));
      await client.setLoggingLevel("debug");
      let returned = false;
      const pending = client.callTool({ name: "gated", arguments: { name: "sdk", gate: gates.url("sdk") } }).then((r) => ((returned = true), r));
      expect(await logged.promise).toEqual({ tool: "gated", message: "started sdk" });
      await gates.reached("sdk");
      expect(returned).toBe(false);
      gates.open("sdk");
      expect((await pending).content).toEqual([{ type: "text", text: "done sdk" }]);
    } finally {
      await client.close();
    }
  });
});

describe("a client that takes only JSON", () => {
  test("gets the call's notifications on the session's GET stream while the call runs, and the result as JSON", async () => {
    const { server, gates } = stackOf();
    const sid = await rawSession(server.endpoint, server.token, "2025-11-25");
    const get = await openGet(server, sid);
    expect(get.headers.get("content-type")).toContain("text/event-stream");
    const stream = new SseReader(get.body);
    await stream.until((b) => b.data === "", "the priming event");
    let answered = false;
    const answer = postStreaming(server, sid, call(5, "gated", { name: "json", gate: gates.url("json") }, { progressToken: 7 }), "application/json").then((r) => ((answered = true), r));
    const seen = messages(await stream.until((b) => b.json?.method === "notifications/progress", "the progress notification"));
    expect(seen).toEqual([
      { jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: { tool: "gated", message: "started json" } } },
      { jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: 7, progress: 1, total: 2, message: "at the gate" } },
    ]);
    await gates.reached("json");
    expect(answered).toBe(false);
    gates.open("json");
    const res = await answer;
    expect(res.headers.get("content-type")).toStartWith("application/json");
    expect(await res.json()).toMatchObject({ id: 5, result: { content: [{ type: "text", text: "done json" }] } });
    // the line logged after the gate went out on the GET stream too, before the result
    const last = await stream.until((b) => b.json?.method === "notifications/message", "the second log line");
    expect(last.at(-1)!.json.params.data.message).toBe("finished json");
    expect(seen.some(isResult)).toBe(false);
    await stream.cancel();
  });
});
