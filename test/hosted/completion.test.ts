/**
 * completion/complete (issue 14, point 5) through the SDK v1 client: prompt arguments
 * and template variables complete from their declared `values` (prefix-filtered,
 * case-insensitive, at most 100 with total and hasMore) or from a tool asked
 * {argument, value, context}; the `completions` capability is declared only when
 * something can complete; bad declarations and foreign tools are refused.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { op, opError } from "../support/client.ts";
import { startWithClients, type Stack } from "../support/dzx.ts";
import { createServer, hostedClient, type HostedServer } from "./support.ts";

setDefaultTimeout(60_000);

const CITIES = ["Paris", "Parma", "Park City", "Lisbon", "Lima", "london"];
const MANY = Array.from({ length: 150 }, (_, i) => `item-${String(i).padStart(3, "0")}`);

let stack: Stack<"admin" | "other">;
let admin: Client;
let server: HostedServer;
let plain: HostedServer;
let client: Client;

const tool = (slug: string, source: string) => op(admin, "dwizi.tools.create", { tool: { name: slug, slug, source } });
const prompt = (p: Record<string, unknown>) => op(admin, "dwizi.prompts.create", { prompt: p });
const promptRef = (name: string) => ({ type: "ref/prompt" as const, name });
const templateRef = (uri: string) => ({ type: "ref/resource" as const, uri });

beforeAll(async () => {
  stack = await startWithClients({ admin: ["acme"], other: ["rivals"] });
  admin = stack.clients.admin;
  await tool(
    "suggest",
    `export default async ({ argument, value, context }) =>
      ["car", "bus", "bike", "boat"].filter((v) => v.startsWith(value)).map((v) => argument + ":" + v + (context.arguments.city ? " in " + context.arguments.city : ""))`,
  );
  await tool("days", "export default async ({ value }) => Array.from({ length: 120 }, (_, i) => value + i)");
  await tool("not-a-list", "export default async () => ({ values: ['a'] })");
  await tool("fails", "export default async () => { throw new Error('index offline'); }");
  await prompt({
    name: "plan-trip",
    arguments: [
      { name: "city", required: true, values: CITIES },
      { name: "transport", complete: { toolId: "suggest" } },
      { name: "many", values: MANY },
      { name: "note" },
      { name: "odd", complete: { toolId: "not-a-list" } },
      { name: "down", complete: { toolId: "fails" } },
    ],
    messages: [{ role: "user", content: "Plan a trip to {{city}} by {{transport}}. {{note}}" }],
  });
  await prompt({ name: "no-completions", arguments: [{ name: "topic" }], messages: [{ role: "user", content: "About {{topic}}" }] });
  await op(admin, "dwizi.resources.create", {
    resource: { uri: "weather://{city}/{day}", name: "Weather", text: "{{city}} on {{day}}", variables: { city: { values: CITIES }, day: { complete: { toolId: "days" } } } },
  });
  server = await createServer(admin, { name: "Completes", promptIds: ["plan-trip", "no-completions"], resourceIds: ["weather"] });
  plain = await createServer(admin, { name: "Plain", promptIds: ["no-completions"] });
  client = await hostedClient(server.endpoint, server.token);
}, 60_000);
afterAll(async () => {
  await client?.close();
  await stack?.dispose();
});

describe("the completions capability", () => {
  test("is declared by a server with something that completes, and not by one without", async () => {
    expect(client.getServerCapabilities()?.completions).toEqual({});
    const other = await hostedClient(plain.endpoint, plain.token);
    try {
      expect(other.getServerCapabilities()?.completions).toBeUndefined();
      expect(other.getServerCapabilities()?.prompts).toBeDefined();
    } finally {
      await other.close();
    }
  });

  test("prompts/list shows arguments without where their completions come from", async () => {
    const { prompts } = await client.listPrompts();
    const plan = prompts.find((p) => p.name === "plan-trip")!;
    expect(plan.arguments?.slice(0, 2)).toEqual([{ name: "city", required: true }, { name: "transport" }]);
  });
});

describe("from declared values", () => {
  test("a prompt argument's values are filtered by prefix, case-insensitively", async () => {
    const r = await client.complete({ ref: promptRef("plan-trip"), argument: { name: "city", value: "par" } });
    expect(r.completion).toEqual({ values: ["Paris", "Parma", "Park City"], total: 3, hasMore: false });
    const l = await client.complete({ ref: promptRef("plan-trip"), argument: { name: "city", value: "L" } });
    expect(l.completion.values).toEqual(["Lisbon", "Lima", "london"]);
    expect((await client.complete({ ref: promptRef("plan-trip"), argument: { name: "city", value: "zzz" } })).completion).toEqual({ values: [], total: 0, hasMore: false });
  });

  test("at most 100 values, with the total and hasMore", async () => {
    const all = await client.complete({ ref: promptRef("plan-trip"), argument: { name: "many", value: "" } });
    expect(all.completion).toEqual({ values: MANY.slice(0, 100), total: 150, hasMore: true });
    const some = await client.complete({ ref: promptRef("plan-trip"), argument: { name: "many", value: "item-1" } });
    expect(some.completion).toEqual({ values: MANY.slice(100, 150), total: 50, hasMore: false });
  });

  test("a template variable completes from its values", async () => {
    const r = await client.complete({ ref: templateRef("weather://{city}/{day}"), argument: { name: "city", value: "li" } });
    expect(r.completion.values).toEqual(["Lisbon", "Lima"]);
  });

  test("an argument with nothing declared offers nothing", async () => {
    expect((await client.complete({ ref: promptRef("plan-trip"), argument: { name: "note", value: "x" } })).completion).toEqual({ values: [], total: 0, hasMore: false });
  });
});

describe("from a tool", () => {
  test("the tool gets {argument, value, context} and its strings are the values", async () => {
    const r = await client.complete({ ref: promptRef("plan-trip"), argument: { name: "transport", value: "b" } });
    expect(r.completion).toEqual({ values: ["transport:bus", "transport:bike", "transport:boat"], total: 3, hasMore: false });
  });

  test("context.arguments reaches the tool", async () => {
    const r = await client.complete({ ref: promptRef("plan-trip"), argument: { name: "transport", value: "ca" }, context: { arguments: { city: "Paris" } } });
    expect(r.completion.values).toEqual(["transport:car in Paris"]);
  });

  test("a template variable's tool: capped at 100, and the call is in the call log", async () => {
    const r = await client.complete({ ref: templateRef("weather://{city}/{day}"), argument: { name: "day", value: "d" } });
    expect(r.completion).toEqual({ values: Array.from({ length: 100 }, (_, i) => `d${i}`), total: 120, hasMore: true });
    const { calls } = await op(admin, "dwizi.calls.list", { server: server.id });
    expect(calls.find((c: { toolName: string }) => c.toolName === "complete:weather.day")).toMatchObject({ status: "ok", input: { argument: "day", value: "d", context: { arguments: {} } } });
  });

  test("a tool that fails, or returns no array of strings, is a JSON-RPC error naming the argument", async () => {
    const odd = await client.complete({ ref: promptRef("plan-trip"), argument: { name: "odd", value: "" } }).catch((e) => e);
    expect(odd).toMatchObject({ code: -32603, message: expect.stringContaining('prompt "plan-trip" argument "odd" must return an array of strings') });
    const down = await client.complete({ ref: promptRef("plan-trip"), argument: { name: "down", value: "" } }).catch((e) => e);
    expect(down).toMatchObject({ code: -32603, message: expect.stringContaining("index offline") });
    expect((await client.complete({ ref: promptRef("plan-trip"), argument: { name: "city", value: "pa" } })).completion.total).toBe(3);
  });
});

describe("unknown references", () => {
  test("an unknown prompt, argument, template or variable is invalid params", async () => {
    const cases = [
      [promptRef("nope"), "city", 'Unknown prompt: "nope"'],
      [promptRef("plan-trip"), "nope", 'Prompt "plan-trip" has no argument "nope"'],
      [templateRef("weather://{town}"), "town", 'Unknown resource template: "weather://{town}"'],
      [templateRef("weather://{city}/{day}"), "hour", 'has no variable "hour"'],
    ] as const;
    for (const [ref, name, message] of cases) {
      const err = await client.complete({ ref, argument: { name, value: "" } }).catch((e) => e);
      expect(err).toMatchObject({ code: -32602, message: expect.stringContaining(message) });
    }
  });
});

describe("declaring completions", () => {
  const promptCount = async () => (await op(admin, "dwizi.prompts.list", {})).prompts.length;
  const messages = [{ role: "user", content: "x" }];

  test("values and complete together, or values that are not strings, are VALIDATION_ERROR; nothing is written", async () => {
    const before = await promptCount();
    const both = await opError(admin, "dwizi.prompts.create", { prompt: { name: "both", arguments: [{ name: "a", values: ["x"], complete: { toolId: "suggest" } }], messages } });
    expect(both).toMatchObject({ code: "VALIDATION_ERROR", message: 'arguments[0]: declare "values" or "complete", not both' });
    const typed = await opError(admin, "dwizi.prompts.create", { prompt: { name: "typed", arguments: [{ name: "a", values: [1, 2] }], messages } });
    expect(typed).toMatchObject({ code: "VALIDATION_ERROR", message: expect.stringContaining("prompt.arguments.0.values.0") });
    expect(await promptCount()).toBe(before);
  });

  test("another org's tool is not found; nothing is written", async () => {
    const theirs = (await op(stack.clients.other, "dwizi.tools.create", { tool: { name: "Theirs", source: "export default async () => []" } })).tool;
    const before = await promptCount();
    const e = await opError(admin, "dwizi.prompts.create", { prompt: { name: "foreign", arguments: [{ name: "a", complete: { toolId: theirs.id } }], messages } });
    expect(e).toMatchObject({ code: "NOT_FOUND", message: `arguments[0].complete.toolId: tool "${theirs.id}" not found in this org` });
    const u = await opError(admin, "dwizi.prompts.update", { slug: "no-completions", patch: { arguments: [{ name: "topic", complete: { toolId: "theirs" } }] } });
    expect(u.code).toBe("NOT_FOUND");
    expect(await promptCount()).toBe(before);
  });

  test("a completion tool named by slug is stored by id; an update can switch to values", async () => {
    const suggest = (await op(admin, "dwizi.tools.get", { slug: "suggest" })).tool;
    const stored = (await op(admin, "dwizi.prompts.get", { slug: "plan-trip" })).prompt;
    expect(stored.arguments[1]).toEqual({ name: "transport", complete: { toolId: suggest.id } });
    const updated = (await op(admin, "dwizi.prompts.update", { slug: "no-completions", patch: { arguments: [{ name: "topic", values: ["cats", "cars"] }] } })).prompt;
    expect(updated.arguments).toEqual([{ name: "topic", values: ["cats", "cars"] }]);
    const other = await hostedClient(plain.endpoint, plain.token);
    try {
      expect(other.getServerCapabilities()?.completions).toEqual({});
      expect((await other.complete({ ref: promptRef("no-completions"), argument: { name: "topic", value: "ca" } })).completion.values).toEqual(["cats", "cars"]);
    } finally {
      await other.close();
    }
  });
});
