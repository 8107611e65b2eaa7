/**
 * Bun.serve routes a hosted server's POST straight to its endpoint, past Elysia
 * (the hot path). Every answer on that path must still carry X-Request-Id (the
 * client's own, or one dzx made) and be logged at debug level as any other
 * request is, on both endpoint forms, for results, refusals and errors alike,
 * while other methods and paths under /mcp still reach their own routes.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { op } from "../support/client.ts";
import { startWithClients, type Stack } from "../support/dzx.ts";
import { createServer, eventually, post, rawSession, type HostedServer } from "./support.ts";

setDefaultTimeout(60_000);

let stack: Stack<"admin">;
let server: HostedServer;

beforeAll(async () => {
  stack = await startWithClients({ admin: ["acme"] });
  await op(stack.clients.admin, "dwizi.tools.create", { tool: { name: "echo", source: "export default async (input) => input" } });
  server = await createServer(stack.clients.admin, { name: "Ids", toolIds: ["echo"] });
}, 120_000);
afterAll(() => stack?.dispose());

const forms = () => [
  ["/mcp/srv_<id>", server.endpoint],
  ["/api/v1/mcp/servers/<id>/protocol", `${stack.dzx.url}/api/v1/mcp/servers/${server.id}/protocol`],
] as const;

describe.each([0, 1])("endpoint form %#", (form) => {
  const url = () => forms()[form]![1];

  test("every kind of answer carries a request id of its own", async () => {
    const sid = await rawSession(url(), server.token);
    const session = { "mcp-session-id": sid, "mcp-protocol-version": "2025-06-18" };
    const answers = [
      ["result", 200, await post(url(), server.token, { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: { a: 1 } } }, session)],
      ["notification", 202, await post(url(), server.token, { jsonrpc: "2.0", method: "notifications/initialized" }, session)],
      ["no token", 401, await post(url(), null, { jsonrpc: "2.0", id: 2, method: "ping" }, session)],
      ["unknown session", 404, await post(url(), server.token, { jsonrpc: "2.0", id: 3, method: "ping" }, { ...session, "mcp-session-id": "nope" })],
      ["malformed JSON", 400, await post(url(), server.token, "{not json", session)],
      ["SSE answer", 200, await post(url(), server.token, { jsonrpc: "2.0", id: 4, method: "ping" }, { ...session, accept: "text/event-stream" })],
    ] as const;
    const ids = new Set<string>();
    for (const [what, status, r] of answers) {
      expect({ what, status: r.status }).toEqual({ what, status });
      const id = r.headers.get("x-request-id");
      expect({ what, id: typeof id === "string" && id.length > 0 }).toEqual({ what, id: true });
      ids.add(id!);
    }
    expect(ids.size).toBe(answers.length);
    expect(answers[5][2].headers.get("content-type")).toStartWith("text/event-stream");
  });

  test("the client's own X-Request-Id is echoed and names the request's debug log line", async () => {
    const mine = `trace-hosted-${form}-${crypto.randomUUID()}`;
    const sid = await rawSession(url(), server.token);
    const r = await post(url(), server.token, { jsonrpc: "2.0", id: 1, method: "ping" }, { "mcp-session-id": sid, "x-request-id": mine });
    expect(r.status).toBe(200);
    expect(r.json.result).toEqual({});
    expect(r.headers.get("x-request-id")).toBe(mine);
    const path = new URL(url()).pathname;
    const lines = () =>
      stack.dzx
        .output()
        .split("\n")
        .filter((l) => l.includes(`"requestId":"${mine}"`))
        .map((l) => JSON.parse(l));
    // dzx writes the line before it answers, but its stderr reaches this process on its own schedule
    await eventually(() => lines().length > 0, 5_000, "the request's log line");
    const line = lines();
    expect(line).toHaveLength(1);
    expect(line[0]).toMatchObject({ msg: "request", method: "POST", path, status: 200 });
  });
});

test("GET and DELETE on a hosted endpoint, and POST to other /mcp paths, still reach their own routes", async () => {
  const sid = await rawSession(server.endpoint, server.token);
  const auth = { authorization: `Bearer ${server.token}` };
  // GET without Accept: text/event-stream is refused by the GET route, not by a missing route
  const get = await fetch(server.endpoint, { headers: { ...auth, "mcp-session-id": sid } });
  expect(get.status).toBe(406);
  expect(get.headers.get("x-request-id")).toBeTruthy();
  const del = await fetch(server.endpoint, { method: "DELETE", headers: { ...auth, "mcp-session-id": sid } });
  expect(del.status).toBe(204);
  const gone = await post(server.endpoint, server.token, { jsonrpc: "2.0", id: 1, method: "ping" }, { "mcp-session-id": sid });
  expect(gone.status).toBe(404);
  const other = await post(`${stack.dzx.url}/mcp/nothing-here`, server.token, { jsonrpc: "2.0", id: 1, method: "ping" });
  expect(other.status).toBe(404);
  expect(other.json.error.code).toBe("NOT_FOUND");
  expect(other.headers.get("x-request-id")).toBeTruthy();
});
