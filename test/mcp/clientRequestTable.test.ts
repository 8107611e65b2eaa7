/**
 * A session's table of server→client requests on its own (the transport half of
 * issue 14 point 3; the sandbox side that asks lives with context.elicit/sample):
 * ids, results, client errors, and every way a wait is given up.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { Cancellation } from "../../src/mcp/cancellation.ts";
import { ClientRequestError } from "../../src/mcp/clientRequest.ts";
import { ClientRequestTable } from "../../src/mcp/clientRequestTable.ts";
import { clientRequestsOf, SessionStore } from "../../src/mcp/session.ts";

setDefaultTimeout(60_000);

/** What the table sent the client. */
function outbox() {
  const sent: any[] = [];
  return { sent, send: (m: unknown) => void sent.push(m) };
}

const rejection = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return err as ClientRequestError;
  }
  throw new Error("the request was not rejected");
};

describe("ClientRequestTable", () => {
  test("sends a JSON-RPC request under a dzx id and resolves with the client's result", async () => {
    const table = new ClientRequestTable();
    const out = outbox();
    const answer = table.ask(out.send, "elicitation/create", { message: "Name?", requestedSchema: { type: "object" } });
    expect(out.sent).toEqual([{ jsonrpc: "2.0", id: "dzx-1", method: "elicitation/create", params: { message: "Name?", requestedSchema: { type: "object" } } }]);
    expect(table.size).toBe(1);
    expect(table.settle({ jsonrpc: "2.0", id: "dzx-1", result: { action: "accept", content: { name: "Ada" } } })).toBe(true);
    expect(await answer).toEqual({ action: "accept", content: { name: "Ada" } });
    expect(table.size).toBe(0);
  });

  test("ids never repeat, and a response naming no waiting request is ignored", async () => {
    const table = new ClientRequestTable();
    const out = outbox();
    const a = table.ask(out.send, "sampling/createMessage", {});
    const b = table.ask(out.send, "sampling/createMessage", {});
    expect(out.sent.map((m) => m.id)).toEqual(["dzx-1", "dzx-2"]);
    expect(table.settle({ jsonrpc: "2.0", id: "dzx-9", result: {} })).toBe(false);
    expect(table.settle({ jsonrpc: "2.0", id: 1, result: {} })).toBe(false);
    table.settle({ jsonrpc: "2.0", id: "dzx-2", result: { n: 2 } });
    table.settle({ jsonrpc: "2.0", id: "dzx-1", result: { n: 1 } });
    expect([await a, await b]).toEqual([{ n: 1 }, { n: 2 }]);
    // settled once: a second answer to the same id finds nothing
    expect(table.settle({ jsonrpc: "2.0", id: "dzx-1", result: {} })).toBe(false);
  });

  test("the client's error rejects with ClientRequestError carrying its message, code and data", async () => {
    const table = new ClientRequestTable();
    const out = outbox();
    const answer = table.ask(out.send, "sampling/createMessage", {});
    table.settle({ jsonrpc: "2.0", id: "dzx-1", error: { code: -32601, message: "Method not found", data: { hint: "no sampling" } } });
    const err = await rejection(answer);
    expect(err).toBeInstanceOf(ClientRequestError);
    expect(err.message).toContain("Method not found");
    expect(err.code).toBe(-32601);
    expect(err.data).toEqual({ hint: "no sampling" });
    // the client is not told of its own refusal
    expect(out.sent).toHaveLength(1);
  });

  test("a result that is not an object is refused", async () => {
    const table = new ClientRequestTable();
    const answer = table.ask(outbox().send, "elicitation/create", {});
    table.settle({ jsonrpc: "2.0", id: "dzx-1", result: "yes" });
    expect((await rejection(answer)).message).toContain("not a result object");
  });

  test("the call being cancelled rejects the wait and tells the client the request is cancelled", async () => {
    const table = new ClientRequestTable();
    const out = outbox();
    const call = new Cancellation();
    const answer = table.ask(out.send, "elicitation/create", {}, call);
    call.abort(new Error("cancelled by the client"));
    const err = await rejection(answer);
    expect(err.message).toBe("The request to the client was abandoned: cancelled by the client");
    expect(out.sent[1]).toEqual({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: "dzx-1", reason: err.message } });
    expect(table.size).toBe(0);
    // a late answer finds nothing
    expect(table.settle({ jsonrpc: "2.0", id: "dzx-1", result: {} })).toBe(false);
  });

  test("the caller's own signal (a timeout) rejects the wait the same way", async () => {
    const table = new ClientRequestTable();
    const out = outbox();
    const timeout = new AbortController();
    const answer = table.ask(out.send, "elicitation/create", {}, new Cancellation(), timeout.signal);
    timeout.abort(new Error("no answer within 600000 ms"));
    expect((await rejection(answer)).message).toContain("no answer within 600000 ms");
    expect(out.sent[1].method).toBe("notifications/cancelled");
  });

  test("a call already cancelled sends nothing", async () => {
    const table = new ClientRequestTable();
    const out = outbox();
    const call = new Cancellation();
    call.abort(new Error("gone"));
    await rejection(table.ask(out.send, "elicitation/create", {}, call));
    expect(out.sent).toEqual([]);
  });

  test("a session whose call waits on its client is not idle: it outlives its TTL until the call ends", () => {
    let now = 0;
    const sessions = new SessionStore({ ttlMs: 1000, now: () => now });
    const s = sessions.open("owner", "2025-11-25", {}, { elicitation: {} });
    // what the engine registers for a call in flight
    s.inflight.set("7", { abort() {} });
    now = 5000;
    expect(sessions.get(s.id, "owner")).toBe(s);
    s.inflight.delete("7");
    now = 10_000;
    expect(sessions.get(s.id, "owner")).toBeUndefined();
  });

  test("the session ending rejects every request it still waits on", async () => {
    const sessions = new SessionStore();
    const s = sessions.open("owner", "2025-11-25", {}, { elicitation: {} });
    const out = outbox();
    const a = clientRequestsOf(s).ask(out.send, "elicitation/create", {});
    const b = clientRequestsOf(s).ask(out.send, "sampling/createMessage", {});
    expect(sessions.close(s.id, "owner")).toBe(true);
    for (const p of [a, b]) expect((await rejection(p)).message).toBe("The request to the client was abandoned: the session ended");
    // the client is gone: no cancellations are sent to it
    expect(out.sent).toHaveLength(2);
  });
});
