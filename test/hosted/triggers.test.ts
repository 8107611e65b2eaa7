/**
 * TRIGGER tools (issue 17.6, seed 001 `toolType`): a tool attached as a TRIGGER gets an
 * inbound webhook `POST /hooks/<attachmentId>` with its own secret (shown once; bearer or
 * HMAC-SHA256 signature). Each accepted event runs through the tool; what it returns is
 * kept and published as `trigger://<name>/events`, whose subscribers hear
 * notifications/resources/updated. Throwing drops the event; 401, 404, 413 and 429 guard it.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createHmac } from "node:crypto";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { op, opError, rest } from "../support/client.ts";
import { readmeBlocks } from "../support/readme.ts";
import { startWithClients, type Stack } from "../support/dzx.ts";
import { createServer, eventually, hostedClient, type HostedServer } from "./support.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

const MAX_BODY = 4096;

let stack: Stack<"admin">;
let admin: Client;
let server: HostedServer;
let client: Client;
/** The main trigger: its attachment, webhook and resource. */
let push: { id: string; url: string; secret: string; uri: string };
/** Every webhook secret dzx issued in this file: none may show anywhere after its one answer. */
const issued: string[] = [];

const sign = (secret: string, body: string) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

/** A webhook answer's JSON body. */
const jsonOf = (r: Response): Promise<any> => r.json();

function hook(url: string, body: string, headers: Record<string, string> = {}) {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
}

/** Attaches a tool as a TRIGGER; returns what the add answered. */
async function attachTrigger(toolSlug: string, alias?: string) {
  const r = await op(admin, "dwizi.mcp.tools.add", { server: server.id, toolSlug, ...(alias ? { alias } : {}), toolType: "TRIGGER" });
  issued.push(r.webhook.secret);
  return { id: r.attachment.id as string, url: r.webhook.url as string, secret: r.webhook.secret as string, uri: r.attachment.resourceUri as string, answer: r };
}

/** The events of a trigger's resource, newest first. */
async function events(uri: string): Promise<{ id: string; receivedAt: string; event: any }[]> {
  const r = await client.readResource({ uri });
  expect(r.contents).toHaveLength(1);
  expect(r.contents[0]).toMatchObject({ uri, mimeType: "application/json" });
  return JSON.parse(String((r.contents[0] as { text: string }).text)).events;
}

/** Polls a trigger's events until `ready` holds for them. */
async function eventsWhen(uri: string, ready: (e: { id: string; event: any }[]) => boolean) {
  const end = Date.now() + 15_000;
  for (;;) {
    const e = await events(uri);
    if (ready(e)) return e;
    if (Date.now() > end) throw new Error(`events of ${uri} never became ready: ${JSON.stringify(e)}`);
    await Bun.sleep(25);
  }
}

beforeAll(async () => {
  stack = await startWithClients({ admin: ["acme"] }, { DZX_MAX_BODY_BYTES: String(MAX_BODY) });
  admin = stack.clients.admin;
  await op(admin, "dwizi.tools.create", { tool: { name: "Echo", slug: "echo", source: "export default async (i) => i" } });
  await op(admin, "dwizi.tools.create", {
    tool: {
      name: "Repo Push",
      slug: "repo-push",
      description: "Shapes a repository push event",
      source: `export default async (input) => ({
        body: input.body,
        agent: input.headers["x-agent"] ?? null,
        sawCredentials: "authorization" in input.headers || "x-dzx-signature" in input.headers,
        timed: typeof input.receivedAt === "string",
      })`,
    },
  });
  await op(admin, "dwizi.tools.create", {
    tool: { name: "Picky", slug: "picky", source: "export default async (input) => { if (input.body.drop) throw new Error('not interesting'); return { n: input.body.n }; }" },
  });
  server = await createServer(admin, { name: "Repo Watch", toolIds: ["echo"] });
  push = await attachTrigger("repo-push", "gh");
  client = await hostedClient(server.endpoint, server.token);
}, 60_000);

afterAll(async () => {
  await client?.close().catch(() => {});
  await stack?.dispose();
});

describe("attaching a TRIGGER", () => {
  test("answers its webhook URL and a secret once; the attachment says TRIGGER and names its resource", async () => {
    expect(push.url).toBe(`${stack.dzx.url}/hooks/${push.id}`);
    expect(push.secret).toMatch(/^whsec_[A-Za-z0-9]{40}$/);
    expect(push.uri).toBe("trigger://gh__repo-push/events");
    const listed = (await op(admin, "dwizi.mcp.tools.list", { server: server.id })).tools.find((a: any) => a.id === push.id);
    expect(listed).toMatchObject({ toolType: "TRIGGER", exposedName: "gh__repo-push", webhookPath: `/hooks/${push.id}`, resourceUri: push.uri });
    const echo = (await op(admin, "dwizi.mcp.tools.list", { server: server.id })).tools.find((a: any) => a.toolSlug === "echo");
    expect(echo.toolType).toBe("ACTION");
    expect(echo.webhookPath).toBeUndefined();
  });

  test("tools/list of the server does not show the trigger; resources/list shows its events resource", async () => {
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["echo"]);
    expect((await client.listResources()).resources).toEqual([expect.objectContaining({ uri: push.uri, name: "gh__repo-push", mimeType: "application/json" })]);
    const call = await client.callTool({ name: "gh__repo-push", arguments: {} }).catch((e: Error) => e);
    expect(call).toBeInstanceOf(Error);
    expect((call as Error).message).toContain("Unknown tool");
  });

  test("the toolType cannot change through dwizi.mcp.tools.update", async () => {
    const e = await opError(admin, "dwizi.mcp.tools.update", { server: server.id, attachmentId: push.id, patch: { toolType: "ACTION" } });
    expect(e.code).toBe("VALIDATION_ERROR");
    expect(e.message).toContain("toolType cannot change");
  });

  test("REST: POST /api/v1/mcp/servers/:id/tools with toolType TRIGGER answers 201 with the webhook", async () => {
    const r = await rest(stack.dzx.url, stack.keys.admin.key, "POST", `/mcp/servers/${server.id}/tools`, { toolSlug: "echo", alias: "rest", toolType: "TRIGGER" });
    expect(r.status).toBe(201);
    expect(r.json.attachment.toolType).toBe("TRIGGER");
    expect(r.json.webhook.url).toBe(`${stack.dzx.url}/hooks/${r.json.attachment.id}`);
    issued.push(r.json.webhook.secret);
    expect((await hook(r.json.webhook.url, "{}", { authorization: `Bearer ${r.json.webhook.secret}` })).status).toBe(202);
  });
});

describe("the webhook", () => {
  test("a subscribed SDK client hears resources/updated after a signed POST, and reads the event back", async () => {
    const updated: string[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updated.push(n.params.uri));
    await client.subscribeResource({ uri: push.uri });
    const body = JSON.stringify({ ref: "refs/heads/main", commits: 3 });
    const r = await hook(push.url, body, { "x-dzx-signature": sign(push.secret, body), "x-agent": "curl" });
    expect(r.status).toBe(202);
    const answer = await jsonOf(r);
    expect(answer).toEqual({ accepted: true, id: expect.any(String) });
    await eventually(() => updated.includes(push.uri), 15_000, "resources/updated");
    const [latest] = await events(push.uri);
    expect(latest).toEqual({ id: answer.id, receivedAt: expect.any(String), event: { body: { ref: "refs/heads/main", commits: 3 }, agent: "curl", sawCredentials: false, timed: true } });
  });

  test("the bearer form works too, and events read back newest first", async () => {
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const r = await hook(push.url, JSON.stringify({ n }), { authorization: `Bearer ${push.secret}` });
      expect(r.status).toBe(202);
      ids.push((await jsonOf(r)).id);
      // one at a time: each kept before the next arrives, so their order is the order sent
      await eventsWhen(push.uri, (e) => e[0]?.id === ids.at(-1));
    }
    const e = await events(push.uri);
    expect(e.slice(0, 3).map((x) => x.id)).toEqual(ids.toReversed());
    expect(e.slice(0, 3).map((x) => x.event.body)).toEqual([{ n: 3 }, { n: 2 }, { n: 1 }]);
    expect(e[0].event.sawCredentials).toBe(false);
    const times = e.map((x) => Date.parse(x.receivedAt));
    expect(times).toEqual(times.toSorted((a, b) => b - a));
  });

  test("a text body reaches the tool as text", async () => {
    const r = await hook(push.url, "plain words", { authorization: `Bearer ${push.secret}`, "content-type": "text/plain" });
    const { id } = await jsonOf(r);
    const [latest] = await eventsWhen(push.uri, (e) => e[0]?.id === id);
    expect(latest.event.body).toBe("plain words");
  });

  test("a bad signature, a wrong or missing secret is 401 and nothing is stored", async () => {
    const before = await events(push.uri);
    const body = JSON.stringify({ evil: true });
    const refusals: Record<string, string>[] = [
      { "x-dzx-signature": sign("whsec_wrong", body) },
      { "x-dzx-signature": sign(push.secret, `${body} `) },
      { "x-dzx-signature": "sha256=nothex" },
      { "x-dzx-signature": push.secret },
      { authorization: "Bearer whsec_wrong" },
      { authorization: push.secret },
      { authorization: `Bearer ${server.token}` },
      {},
    ];
    for (const headers of refusals) {
      const r = await hook(push.url, body, headers);
      expect({ headers, status: r.status }).toEqual({ headers, status: 401 });
      const text = await r.text();
      expect(JSON.parse(text).error.code).toBe("UNAUTHORIZED");
      expect(text).not.toContain(push.secret);
    }
    // a good one after them: once it is kept, anything the refused ones had started would show too
    const ok = await hook(push.url, JSON.stringify({ after: true }), { authorization: `Bearer ${push.secret}` });
    const { id } = await jsonOf(ok);
    const after = await eventsWhen(push.uri, (e) => e[0]?.id === id);
    expect(after.slice(1)).toEqual(before);
    expect(JSON.stringify(after)).not.toContain("evil");
  });

  test("a tool that throws drops the event", async () => {
    const picky = await attachTrigger("picky");
    const auth = { authorization: `Bearer ${picky.secret}` };
    expect((await hook(picky.url, JSON.stringify({ drop: true }), auth)).status).toBe(202);
    expect((await hook(picky.url, JSON.stringify({ n: 7 }), auth)).status).toBe(202);
    // both runs are in the call log once each has finished
    const end = Date.now() + 15_000;
    let runs: any[] = [];
    while (runs.length < 2) {
      if (Date.now() > end) throw new Error(`trigger runs not logged: ${JSON.stringify(runs)}`);
      runs = (await op(admin, "dwizi.calls.list", { server: server.id, limit: 100 })).calls.filter((c: any) => c.toolName === "trigger:picky");
      if (runs.length < 2) await Bun.sleep(25);
    }
    expect(runs.map((c) => c.status).toSorted()).toEqual(["error", "ok"]);
    const kept = await eventsWhen(picky.uri, (e) => e.length > 0);
    expect(kept.map((e) => e.event)).toEqual([{ n: 7 }]);
  });

  test("a body past DZX_MAX_BODY_BYTES is 413 with a JSON error", async () => {
    const r = await hook(push.url, JSON.stringify({ pad: "x".repeat(MAX_BODY) }), { authorization: `Bearer ${push.secret}` });
    expect(r.status).toBe(413);
    expect((await jsonOf(r)).error.code).toBe("PAYLOAD_TOO_LARGE");
  });

  test("a body nested past DZX_MAX_JSON_DEPTH is refused", async () => {
    const r = await hook(push.url, "[".repeat(100) + "]".repeat(100), { authorization: `Bearer ${push.secret}` });
    expect(r.status).toBe(400);
    expect((await jsonOf(r)).error.message).toContain("DZX_MAX_JSON_DEPTH");
  });

  test("each trigger has its own rate: past the burst it is 429 with Retry-After", async () => {
    const burst = await attachTrigger("picky", "burst");
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 25 && !limited; i++) {
      const r = await hook(burst.url, JSON.stringify({ n: i }), { authorization: `Bearer ${burst.secret}` });
      statuses.push(r.status);
      if (r.status === 429) limited = r;
      else await r.body?.cancel();
    }
    expect(statuses.slice(0, 20)).toEqual(Array(20).fill(202));
    expect(limited?.status).toBe(429);
    expect(Number(limited!.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await jsonOf(limited!)).error.code).toBe("RATE_LIMITED");
    // another trigger's window is untouched
    expect((await hook(push.url, "{}", { authorization: `Bearer ${push.secret}` })).status).toBe(202);
  });

  test("README's curl + openssl example is accepted in both forms", async () => {
    const readme = await attachTrigger("repo-push", "readme");
    const [block] = (await readmeBlocks("Hosted MCP servers", "sh")).filter((b) => b.includes("X-Dzx-Signature"));
    const proc = Bun.spawn(["sh", "-c", block], { env: { ...process.env, WEBHOOK_URL: readme.url, WEBHOOK_SECRET: readme.secret }, stdout: "pipe", stderr: "pipe" });
    const [out, err] = [await new Response(proc.stdout).text(), await new Response(proc.stderr).text()];
    expect({ code: await proc.exited, err }).toEqual({ code: 0, err: "" });
    const answers = out.split("}").filter((x) => x.trim()).map((x) => JSON.parse(`${x}}`));
    expect(answers).toEqual([{ accepted: true, id: expect.any(String) }, { accepted: true, id: expect.any(String) }]);
    const kept = await eventsWhen(readme.uri, (e) => e.length === 2);
    expect(kept.map((e) => e.event.body)).toEqual([{ ref: "refs/heads/main", commits: 3 }, { ref: "refs/heads/main", commits: 3 }]);
  });

  test("an unknown attachment is 404, and so is an ACTION's id", async () => {
    const unknown = await hook(`${stack.dzx.url}/hooks/${crypto.randomUUID()}`, "{}", { authorization: `Bearer ${push.secret}` });
    expect(unknown.status).toBe(404);
    expect((await jsonOf(unknown)).error.code).toBe("NOT_FOUND");
    const echo = (await op(admin, "dwizi.mcp.tools.list", { server: server.id })).tools.find((a: any) => a.toolSlug === "echo" && a.toolType === "ACTION");
    const action = await hook(`${stack.dzx.url}/hooks/${echo.id}`, "{}", { authorization: `Bearer ${push.secret}` });
    expect(action.status).toBe(404);
  });
});

describe("the secret", () => {
  test("rotate_webhook_secret issues a new one; the old one is refused at once", async () => {
    const r = await op(admin, "dwizi.mcp.tools.rotate_webhook_secret", { server: server.id, attachmentId: push.id });
    issued.push(r.webhook.secret);
    expect(r).toEqual({ attachmentId: push.id, webhook: { url: push.url, secret: expect.stringMatching(/^whsec_/) } });
    expect(r.webhook.secret).not.toBe(push.secret);
    expect((await hook(push.url, "{}", { authorization: `Bearer ${push.secret}` })).status).toBe(401);
    const body = JSON.stringify({ rotated: true });
    expect((await hook(push.url, body, { "x-dzx-signature": sign(r.webhook.secret, body) })).status).toBe(202);
    push.secret = r.webhook.secret;
    const echo = (await op(admin, "dwizi.mcp.tools.list", { server: server.id })).tools.find((a: any) => a.toolSlug === "echo" && a.toolType === "ACTION");
    const e = await opError(admin, "dwizi.mcp.tools.rotate_webhook_secret", { server: server.id, attachmentId: echo.id });
    expect(e.code).toBe("VALIDATION_ERROR");
  });

  test("never appears in dwizi.mcp.tools.list, dwizi.mcp.get, the audit log, the call log or the process's logs", async () => {
    expect(issued.length).toBeGreaterThanOrEqual(4);
    const seen = JSON.stringify([
      await op(admin, "dwizi.mcp.tools.list", { server: server.id }),
      await op(admin, "dwizi.mcp.get", { id: server.id }),
      await op(admin, "dwizi.audit.list", { limit: 200 }),
      await op(admin, "dwizi.calls.list", { limit: 500 }),
      await events(push.uri),
    ]);
    const output = stack.dzx.output();
    for (const secret of issued) {
      expect(seen).not.toContain(secret);
      expect(output).not.toContain(secret);
    }
  });

  test("detaching a trigger closes its webhook and drops its resource", async () => {
    const gone = await attachTrigger("picky", "gone");
    await op(admin, "dwizi.mcp.tools.remove", { server: server.id, attachmentId: gone.id });
    expect((await hook(gone.url, "{}", { authorization: `Bearer ${gone.secret}` })).status).toBe(404);
    expect((await client.listResources()).resources.map((r) => r.uri)).not.toContain(gone.uri);
  });
});
