/**
 * What a tool may ask its client (`context.elicit`, `context.sample`), checked on
 * the host side before anything leaves the sandbox, so a malformed request is an
 * error the tool can catch, naming the field, rather than a client's rejection.
 * What passes goes to the client unchanged (a `requestedSchema` keeps SEP-1034
 * defaults and every SEP-1330 enum form).
 */
import { textTooDeep } from "../jsonDepth.ts";

/** The two requests a tool may send its client, by the sandbox function that sends each. */
export const ASK_METHODS = {
  "elicitation/create": "context.elicit",
  "sampling/createMessage": "context.sample",
} as const;

/** A method a tool may ask with. */
export type AskMethod = keyof typeof ASK_METHODS;

/** Raised for a request the client must not receive; the message names the field. */
export class AskRequestError extends Error {}

const ROLES = ["user", "assistant"];
const INCLUDE_CONTEXT = ["none", "thisServer", "allServers"];
const SAMPLE_FIELDS = ["messages", "maxTokens", "systemPrompt", "modelPreferences", "temperature", "stopSequences", "includeContext", "metadata", "tools", "toolChoice"];
const CONTENT_TYPES = ["text", "image", "audio", "tool_use", "tool_result"];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The params of an ask, parsed from the JSON text the sandbox passed and checked
 * against its method; throws AskRequestError naming what is wrong.
 */
export function askParams(method: string, text: string, limits: { outputBytes: number; jsonDepth: number }): Record<string, unknown> {
  if (!Object.hasOwn(ASK_METHODS, method)) throw new AskRequestError(`The sandbox cannot ask the client "${method}"`);
  const fn = ASK_METHODS[method as AskMethod];
  // the same bounds as a tool's result: what leaves the sandbox is held to them either way
  if (Buffer.byteLength(text) > limits.outputBytes) throw new AskRequestError(`${fn}: the request is larger than ${limits.outputBytes} bytes`);
  if (textTooDeep(text, limits.jsonDepth)) throw new AskRequestError(`${fn}: the request is nested deeper than ${limits.jsonDepth} levels`);
  const req = JSON.parse(text) as unknown;
  const fail = (problem: string): never => {
    throw new AskRequestError(`${fn}: ${problem}`);
  };
  if (!isObject(req)) fail(method === "elicitation/create" ? "pass an object {message, requestedSchema}" : "pass an object {messages, maxTokens, …}");
  const params = req as Record<string, unknown>;
  if (method === "elicitation/create") checkElicit(params, fail);
  else checkSample(params, fail);
  return params;
}

function checkElicit(req: Record<string, unknown>, fail: (problem: string) => never): void {
  for (const k of Object.keys(req)) if (k !== "message" && k !== "requestedSchema") fail(`unknown field "${k}" (an elicitation has "message" and "requestedSchema")`);
  if (typeof req.message !== "string" || req.message.trim() === "") fail(`"message" must be a non-empty string`);
  const schema = req.requestedSchema;
  if (!isObject(schema)) fail(`"requestedSchema" must be an object schema {type: "object", properties: {...}}`);
  const s = schema as Record<string, unknown>;
  if (s.type !== "object") fail(`"requestedSchema.type" must be "object"`);
  if (!isObject(s.properties)) fail(`"requestedSchema.properties" must be an object of property schemas`);
  for (const [name, prop] of Object.entries(s.properties as Record<string, unknown>)) {
    if (!isObject(prop)) fail(`"requestedSchema.properties.${name}" must be a schema object`);
  }
  if (s.required !== undefined) {
    if (!Array.isArray(s.required) || s.required.some((r) => typeof r !== "string")) fail(`"requestedSchema.required" must be an array of property names`);
    for (const r of s.required as string[]) if (!Object.hasOwn(s.properties as object, r)) fail(`"requestedSchema.required" names "${r}", which is not one of its properties`);
  }
}

function checkSample(req: Record<string, unknown>, fail: (problem: string) => never): void {
  for (const k of Object.keys(req)) if (!SAMPLE_FIELDS.includes(k)) fail(`unknown field "${k}" (known: ${SAMPLE_FIELDS.join(", ")})`);
  if (!Array.isArray(req.messages) || req.messages.length === 0) fail(`"messages" must be a non-empty array of {role, content}`);
  (req.messages as unknown[]).forEach((m, i) => {
    if (!isObject(m)) fail(`messages[${i}] must be an object {role, content}`);
    const msg = m as Record<string, unknown>;
    if (!ROLES.includes(msg.role as string)) fail(`messages[${i}].role must be "user" or "assistant"`);
    const blocks = Array.isArray(msg.content) ? msg.content : [msg.content];
    if (blocks.length === 0) fail(`messages[${i}].content must not be empty`);
    blocks.forEach((b, j) => {
      const at = Array.isArray(msg.content) ? `messages[${i}].content[${j}]` : `messages[${i}].content`;
      if (!isObject(b) || typeof b.type !== "string") fail(`${at} must be a content block {type, …}`);
      const block = b as Record<string, unknown>;
      if (!CONTENT_TYPES.includes(block.type as string)) fail(`${at}.type "${String(block.type)}" is not one of ${CONTENT_TYPES.join(", ")}`);
      if (block.type === "text" && typeof block.text !== "string") fail(`${at}.text must be a string`);
      if (block.type === "image" || block.type === "audio") {
        if (typeof block.data !== "string") fail(`${at}.data must be base64 text`);
        if (typeof block.mimeType !== "string" || block.mimeType === "") fail(`${at}.mimeType must be a non-empty string`);
      }
    });
  });
  if (!Number.isInteger(req.maxTokens) || (req.maxTokens as number) < 1) fail(`"maxTokens" must be a positive integer`);
  if (req.systemPrompt !== undefined && typeof req.systemPrompt !== "string") fail(`"systemPrompt" must be a string`);
  if (req.temperature !== undefined && (typeof req.temperature !== "number" || !Number.isFinite(req.temperature))) fail(`"temperature" must be a number`);
  if (req.stopSequences !== undefined && (!Array.isArray(req.stopSequences) || req.stopSequences.some((x) => typeof x !== "string"))) fail(`"stopSequences" must be an array of strings`);
  if (req.includeContext !== undefined && !INCLUDE_CONTEXT.includes(req.includeContext as string)) fail(`"includeContext" must be one of ${INCLUDE_CONTEXT.join(", ")}`);
  if (req.metadata !== undefined && !isObject(req.metadata)) fail(`"metadata" must be an object`);
  if (req.modelPreferences !== undefined) {
    if (!isObject(req.modelPreferences)) fail(`"modelPreferences" must be an object {hints?, costPriority?, speedPriority?, intelligencePriority?}`);
    const prefs = req.modelPreferences as Record<string, unknown>;
    for (const k of ["costPriority", "speedPriority", "intelligencePriority"]) {
      const v = prefs[k];
      if (v !== undefined && (typeof v !== "number" || v < 0 || v > 1)) fail(`"modelPreferences.${k}" must be a number from 0 to 1`);
    }
    if (prefs.hints !== undefined && (!Array.isArray(prefs.hints) || prefs.hints.some((h) => !isObject(h)))) fail(`"modelPreferences.hints" must be an array of {name?}`);
  }
  if (req.tools !== undefined && !Array.isArray(req.tools)) fail(`"tools" must be an array of tool definitions`);
  if (req.toolChoice !== undefined && !isObject(req.toolChoice)) fail(`"toolChoice" must be an object {mode}`);
}
