/**
 * Slugs in MCP's own style (issue 14, point 1): tool and prompt slugs take `_`
 * (`^[a-z][a-z0-9_-]{0,63}$`), `__` is reserved as the alias separator and refused
 * in slugs and aliases, over MCP and REST alike, with nothing written; a snake_case
 * tool under a snake_case alias is published and callable as `<alias>__<slug>`.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { op, opError, rest } from "../support/client.ts";
import { startWithClients, type Stack } from "../support/dzx.ts";
import { createServer, hostedClient, type HostedServer } from "../hosted/support.ts";

setDefaultTimeout(60_000);

let stack: Stack<"admin">;
let admin: Client;
let server: HostedServer;

const SOURCE = "export default async (input) => ({ city: input.city ?? null })";

beforeAll(async () => {
  stack = await startWithClients({ admin: ["acme"] });
  admin = stack.clients.admin;
  server = await createServer(admin, { name: "Weather desk" });
}, 60_000);
afterAll(() => stack?.dispose());

const slugsOf = async (kind: "tools" | "prompts") => (await op(admin, `dwizi.${kind}.list`, { limit: 200 }))[kind].map((x: any) => x.slug);

describe("slugs", () => {
  test("tool and prompt slugs take _; hyphenated slugs stay valid", async () => {
    expect((await op(admin, "dwizi.tools.create", { tool: { name: "Weather", slug: "get_weather", source: SOURCE } })).tool.slug).toBe("get_weather");
    expect((await op(admin, "dwizi.tools.create", { tool: { name: "Forecast", slug: "get-forecast_v2", source: SOURCE } })).tool.slug).toBe("get-forecast_v2");
    const p = await op(admin, "dwizi.prompts.create", { prompt: { name: "Simple", slug: "test_simple_prompt", messages: [{ role: "user", content: "hi" }] } });
    expect(p.prompt.slug).toBe("test_simple_prompt");
  });

  test("a slug derived from a snake_case name keeps its _, a run of them becomes one", async () => {
    expect((await op(admin, "dwizi.tools.create", { tool: { name: "test_simple_text", source: SOURCE } })).tool.slug).toBe("test_simple_text");
    expect((await op(admin, "dwizi.tools.create", { tool: { name: "Look__Up City", source: SOURCE } })).tool.slug).toBe("look_up-city");
  });

  test("a slug containing __ is VALIDATION_ERROR naming the field, on create and update, and nothing is written", async () => {
    const tools = await slugsOf("tools");
    const created = await opError(admin, "dwizi.tools.create", { tool: { name: "Bad", slug: "get__weather", source: SOURCE } });
    expect(created.code).toBe("VALIDATION_ERROR");
    expect(created.message).toContain('"tool.slug"');
    expect(created.message).toContain('"__" is reserved');
    const patched = await opError(admin, "dwizi.tools.update", { slug: "get_weather", patch: { slug: "get__weather" } });
    expect(patched.code).toBe("VALIDATION_ERROR");
    expect(patched.message).toContain('"patch.slug"');
    expect(await slugsOf("tools")).toEqual(tools);

    const prompts = await slugsOf("prompts");
    const prompt = await opError(admin, "dwizi.prompts.create", { prompt: { name: "Bad", slug: "my__prompt", messages: [{ role: "user", content: "hi" }] } });
    expect(prompt.code).toBe("VALIDATION_ERROR");
    expect(prompt.message).toContain('"prompt.slug"');
    expect(await slugsOf("prompts")).toEqual(prompts);

    const viaRest = await rest(stack.dzx.url, stack.keys.admin.key, "POST", "/tools", { name: "Bad", slug: "a__b", source: SOURCE });
    expect(viaRest.status).toBe(400);
    expect(viaRest.json.error.code).toBe("VALIDATION_ERROR");
    expect(viaRest.json.error.message).toContain("__");
    expect(await slugsOf("tools")).toEqual(tools);
  });

  test("an alias containing __ is VALIDATION_ERROR naming the field; nothing is attached", async () => {
    const before = (await op(admin, "dwizi.mcp.tools.list", { server: server.id })).tools;
    const add = await opError(admin, "dwizi.mcp.tools.add", { server: server.id, toolSlug: "get_weather", alias: "eu__west" });
    expect(add.code).toBe("VALIDATION_ERROR");
    expect(add.message).toContain('"alias"');
    expect(add.message).toContain('"__" is reserved');
    const viaRest = await rest(stack.dzx.url, stack.keys.admin.key, "POST", `/mcp/servers/${server.id}/tools`, { toolId: "get_weather", alias: "eu__west" });
    expect(viaRest.status).toBe(400);
    expect(viaRest.json.error.message).toContain("alias");
    expect((await op(admin, "dwizi.mcp.tools.list", { server: server.id })).tools).toEqual(before);
  });

  test("a snake_case tool under a snake_case alias is published and called as <alias>__<slug>", async () => {
    const { attachment } = await op(admin, "dwizi.mcp.tools.add", { server: server.id, toolSlug: "get_weather", alias: "eu_west" });
    expect(attachment.exposedName).toBe("eu_west__get_weather");
    const renamed = await opError(admin, "dwizi.mcp.tools.update", { server: server.id, attachmentId: attachment.id, patch: { alias: "eu__north" } });
    expect(renamed.code).toBe("VALIDATION_ERROR");
    expect(renamed.message).toContain('"patch.alias"');
    const client = await hostedClient(server.endpoint, server.token);
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["eu_west__get_weather"]);
      const r = await client.callTool({ name: "eu_west__get_weather", arguments: { city: "Oslo" } });
      expect(r.structuredContent).toEqual({ city: "Oslo" });
    } finally {
      await client.close();
    }
  });

  test("the conformance suite's json_schema_2020_12_tool is published with its 2020-12 keywords unchanged", async () => {
    const inputSchema = {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      $defs: { address: { type: "object", properties: { street: { type: "string" }, city: { type: "string" } } } },
      properties: { name: { type: "string" }, address: { $ref: "#/$defs/address" } },
      additionalProperties: false,
    };
    await op(admin, "dwizi.tools.create", { tool: { name: "json_schema_2020_12_tool", description: "Tool with JSON Schema 2020-12 features", inputSchema, source: SOURCE } });
    await op(admin, "dwizi.mcp.tools.add", { server: server.id, toolSlug: "json_schema_2020_12_tool" });
    const client = await hostedClient(server.endpoint, server.token);
    try {
      const tool = (await client.listTools()).tools.find((t) => t.name === "json_schema_2020_12_tool");
      expect(tool?.inputSchema).toEqual(inputSchema as never);
      const bad = await client.callTool({ name: "json_schema_2020_12_tool", arguments: { address: { city: 1 } } });
      expect(bad.isError).toBe(true);
    } finally {
      await client.close();
    }
  });

  test("OpenAPI documents the one grammar for slugs and aliases", async () => {
    const doc = (await rest(stack.dzx.url, null, "GET", "/openapi.json")).json;
    const slug = doc.paths["/api/v1/tools"].post.requestBody.content["application/json"].schema.properties.slug;
    expect(slug.pattern).toBe("^(?!.*__)[a-z][a-z0-9_-]{0,63}$");
    expect(new RegExp(slug.pattern).test("get_weather")).toBe(true);
    expect(new RegExp(slug.pattern).test("get__weather")).toBe(false);
    const add = doc.paths["/api/v1/mcp/servers/{id}/tools"].post.requestBody.content["application/json"].schema;
    expect(JSON.stringify(add.properties.alias)).toContain(JSON.stringify(slug.pattern));
  });
});
