/**
 * The tools, resources and prompts the conformance suite's server scenarios name
 * (read in @modelcontextprotocol/conformance's scenario descriptions), created the
 * way a user would: through /mcp/dwizi, as dzx tools running in the sandbox.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { op } from "../support/client.ts";

/** A 1×1 red PNG and a minimal WAV (44-byte header, 2 samples). */
export const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
export const WAV = "UklGRigAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQQAAAAAAAAA";

const none = { type: "object", properties: {} };
const sleep = "const sleep = (ms) => new Promise((r) => setTimeout(r, ms));";

const tools: Record<string, unknown>[] = [
  { name: "test_simple_text", description: "Returns simple text", inputSchema: none, source: `export default async () => "This is a simple text response for testing."` },
  { name: "test_image_content", description: "Returns an image", inputSchema: none, source: `export default async () => mcp.result({ content: [mcp.image("${PNG}", "image/png")] })` },
  { name: "test_audio_content", description: "Returns audio", inputSchema: none, source: `export default async () => mcp.result({ content: [mcp.audio("${WAV}", "audio/wav")] })` },
  {
    name: "test_embedded_resource",
    description: "Returns an embedded resource",
    inputSchema: none,
    source: `export default async () => mcp.result({ content: [mcp.resource({ uri: "test://embedded-resource", mimeType: "text/plain", text: "This is an embedded resource content." })] })`,
  },
  {
    name: "test_multiple_content_types",
    description: "Returns text, an image and a resource",
    inputSchema: none,
    source: `export default async () => mcp.result({ content: [
      mcp.text("Multiple content types test:"),
      mcp.image("${PNG}", "image/png"),
      mcp.resource({ uri: "test://mixed-content-resource", mimeType: "application/json", text: JSON.stringify({ test: "data", value: 123 }) }),
    ] })`,
  },
  {
    name: "test_tool_with_logging",
    description: "Sends three log messages while it runs",
    inputSchema: none,
    source: `${sleep}
export default async (input, context) => {
  context.log("info", "Tool execution started"); await sleep(50);
  context.log("info", "Tool processing data"); await sleep(50);
  context.log("info", "Tool execution completed");
  return "Logging test completed";
}`,
  },
  { name: "test_error_handling", description: "Always fails", inputSchema: none, source: `export default async () => { throw new Error("This tool intentionally returns an error for testing"); }` },
  {
    name: "test_tool_with_progress",
    description: "Reports progress 0, 50, 100 of 100",
    inputSchema: none,
    source: `${sleep}
export default async (input, context) => {
  context.progress(0, 100); await sleep(50);
  context.progress(50, 100); await sleep(50);
  context.progress(100, 100);
  return "Progress test completed";
}`,
  },
  {
    name: "test_sampling",
    description: "Asks the client's LLM",
    inputSchema: { type: "object", properties: { prompt: { type: "string" } }, required: ["prompt"] },
    source: `export default async ({ prompt }, context) => {
  const r = await context.sample({ messages: [{ role: "user", content: { type: "text", text: prompt } }], maxTokens: 100 });
  return "LLM response: " + (r.content && r.content.type === "text" ? r.content.text : JSON.stringify(r.content));
}`,
  },
  {
    name: "test_elicitation",
    description: "Asks the user",
    inputSchema: { type: "object", properties: { message: { type: "string" } }, required: ["message"] },
    source: `export default async ({ message }, context) => {
  const r = await context.elicit({ message, requestedSchema: { type: "object", properties: {
    username: { type: "string", description: "User's response" },
    email: { type: "string", description: "User's email address" },
  }, required: ["username", "email"] } });
  return "User response: action=" + r.action + ", content=" + JSON.stringify(r.content ?? {});
}`,
  },
  {
    name: "test_elicitation_sep1034_defaults",
    description: "Asks with defaults for every primitive type",
    inputSchema: none,
    source: `export default async (input, context) => {
  const r = await context.elicit({ message: "Please review and update the form fields with defaults", requestedSchema: { type: "object", properties: {
    name: { type: "string", description: "User name", default: "John Doe" },
    age: { type: "integer", description: "User age", default: 30 },
    score: { type: "number", description: "User score", default: 95.5 },
    status: { type: "string", description: "User status", enum: ["active", "inactive", "pending"], default: "active" },
    verified: { type: "boolean", description: "Verification status", default: true },
  } } });
  return "Elicitation completed: action=" + r.action + ", content=" + JSON.stringify(r.content ?? {});
}`,
  },
  {
    name: "test_elicitation_sep1330_enums",
    description: "Asks with every enum form",
    inputSchema: none,
    source: `export default async (input, context) => {
  const r = await context.elicit({ message: "Please select options from the enum fields", requestedSchema: { type: "object", properties: {
    untitledSingle: { type: "string", description: "Select one option", enum: ["option1", "option2", "option3"] },
    titledSingle: { type: "string", description: "Select one option with titles", oneOf: [
      { const: "value1", title: "First Option" }, { const: "value2", title: "Second Option" }, { const: "value3", title: "Third Option" } ] },
    legacyEnum: { type: "string", description: "Select one option (legacy)", enum: ["opt1", "opt2", "opt3"], enumNames: ["Option One", "Option Two", "Option Three"] },
    untitledMulti: { type: "array", description: "Select multiple options", minItems: 1, maxItems: 3, items: { type: "string", enum: ["option1", "option2", "option3"] } },
    titledMulti: { type: "array", description: "Select multiple options with titles", minItems: 1, maxItems: 3, items: { anyOf: [
      { const: "value1", title: "First Choice" }, { const: "value2", title: "Second Choice" }, { const: "value3", title: "Third Choice" } ] } },
  } } });
  return "Elicitation completed: action=" + r.action + ", content=" + JSON.stringify(r.content ?? {});
}`,
  },
  {
    name: "json_schema_2020_12_tool",
    description: "Tool with JSON Schema 2020-12 features",
    inputSchema: {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      $defs: { address: { type: "object", properties: { street: { type: "string" }, city: { type: "string" } } } },
      properties: { name: { type: "string" }, address: { $ref: "#/$defs/address" } },
      additionalProperties: false,
    },
    source: `export default async (input) => "Received: " + JSON.stringify(input)`,
  },
  {
    name: "test_reconnection",
    description: "Runs long enough for the client to see its stream close and reconnect (SEP-1699)",
    inputSchema: none,
    source: `export default async () => { await new Promise((r) => setTimeout(r, 200)); return "Reconnection test completed"; }`,
  },
];

const resources: Record<string, unknown>[] = [
  { name: "Static text", uri: "test://static-text", description: "A static text resource", mimeType: "text/plain", text: "This is the content of the static text resource." },
  { name: "Static binary", uri: "test://static-binary", description: "A static binary resource (1×1 PNG)", mimeType: "image/png", blob: PNG },
  { name: "Watched", uri: "test://watched-resource", description: "A resource to subscribe to", mimeType: "text/plain", text: "Watched resource content." },
  {
    name: "Template",
    uri: "test://template/{id}/data",
    description: "A resource template with an id",
    mimeType: "application/json",
    text: '{"id":"{{id}}","templateTest":true,"data":"Data for ID: {{id}}"}',
  },
];

const prompts: Record<string, unknown>[] = [
  { name: "test_simple_prompt", description: "A prompt without arguments", messages: [{ role: "user", content: "This is a simple prompt for testing." }] },
  {
    name: "test_prompt_with_arguments",
    description: "A prompt with two arguments",
    arguments: [
      { name: "arg1", description: "First test argument", required: true, values: ["paris", "park", "party", "test", "testing"] },
      { name: "arg2", description: "Second test argument", required: true },
    ],
    messages: [{ role: "user", content: "Prompt with arguments: arg1='{{arg1}}', arg2='{{arg2}}'" }],
  },
  {
    name: "test_prompt_with_embedded_resource",
    description: "A prompt embedding a resource",
    arguments: [{ name: "resourceUri", description: "URI of the resource to embed", required: true }],
    messages: [
      { role: "user", content: { type: "resource", resource: { uri: "{{resourceUri}}", mimeType: "text/plain", text: "Embedded resource content for testing." } } },
      { role: "user", content: "Please process the embedded resource above." },
    ],
  },
  {
    name: "test_prompt_with_image",
    description: "A prompt with an image",
    messages: [
      { role: "user", content: { type: "image", data: PNG, mimeType: "image/png" } },
      { role: "user", content: "Please analyze the image above." },
    ],
  },
];

/** What was made: the server, and every fixture dzx refused (each one named, with its error). */
export interface Fixtures {
  id: string;
  endpoint: string;
  token: string;
  refused: string[];
}

/** Creates every fixture and one TOOLS-mode server holding them. A refused fixture is reported, not fatal, so one run shows every gap. */
export async function createFixtures(admin: Client): Promise<Fixtures> {
  const refused: string[] = [];
  const make = async (kind: "tool" | "resource" | "prompt", items: Record<string, unknown>[]) => {
    const ids: string[] = [];
    for (const item of items) {
      try {
        ids.push((await op(admin, `dwizi.${kind}s.create`, { [kind]: item }))[kind].id);
      } catch (e) {
        refused.push(`${kind} ${item.name}: ${(e as Error).message}`);
      }
    }
    return ids;
  };
  const toolIds = await make("tool", tools);
  const resourceIds = await make("resource", resources);
  const promptIds = await make("prompt", prompts);
  const r = await op(admin, "dwizi.mcp.create", { server: { name: "Conformance", toolIds, resourceIds, promptIds } });
  return { id: r.server.id, endpoint: r.mcpEndpoint, token: r.bearerToken, refused };
}
