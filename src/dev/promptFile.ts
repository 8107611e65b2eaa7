/**
 * A prompt of a dev folder: `prompts/<name>.md`, with optional YAML frontmatter
 * (`description`, `arguments: [{name, description, required}]`); prompts/get
 * returns the body with the frontmatter stripped and `{{arg}}` filled.
 */
import type { McpPrompt } from "../mcp/catalog.ts";
import { contentBlockProblem } from "../mcp/contentBlock.ts";
import type { FilePosition } from "./probeProtocol.ts";

/** A message of a prompt: text, or one MCP content block (an image, an embedded resource…). */
export interface DevPromptMessage {
  role: "user" | "assistant";
  content: string | Record<string, unknown>;
}

/** A prompt file read and checked. */
export interface DevPrompt {
  name: string;
  /** Path relative to the folder. */
  rel: string;
  description?: string;
  arguments: NonNullable<McpPrompt["arguments"]>;
  /** Completion values per argument (frontmatter `values`). */
  values: Record<string, string[]>;
  /** Messages before the body (frontmatter `messages`); the body, when not empty, is the last user message. */
  messages: DevPromptMessage[];
  body: string;
}

/** Why a file cannot be served, where it says. */
export type FileProblem = { message: string } & FilePosition;

const FRONTMATTER = /^---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;
const ARG_KEYS = new Set(["name", "description", "required", "values"]);
const FIELDS = new Set(["description", "arguments", "title", "messages"]);

/** Parses a prompt file's text; a problem names the line it is on. */
export function parsePrompt(name: string, rel: string, text: string): DevPrompt | FileProblem {
  const m = FRONTMATTER.exec(text);
  if (!m) {
    if (/^---[ \t]*\r?\n/.test(text)) return { message: "the frontmatter opened by --- on line 1 is never closed by a --- line", line: 1 };
    return { name, rel, arguments: [], values: {}, messages: [], body: text.trim() };
  }
  let meta: unknown;
  try {
    meta = m[1].trim() ? Bun.YAML.parse(m[1]) : {};
  } catch (e) {
    return { message: `the frontmatter is not valid YAML: ${(e as Error).message.replace(/^YAML Parse error: /, "")}`, line: 2 };
  }
  if (typeof meta !== "object" || meta === null || Array.isArray(meta)) return { message: "the frontmatter must be a YAML mapping (description: …, arguments: […])", line: 2 };
  const lineOf = (key: string) => {
    const i = m[1].split(/\r?\n/).findIndex((l) => l.startsWith(`${key}:`));
    return i < 0 ? 2 : i + 2;
  };
  const f = meta as Record<string, unknown>;
  for (const key of Object.keys(f)) {
    if (!FIELDS.has(key)) return { message: `unknown frontmatter field "${key}" (known: description, arguments, messages, title)`, line: lineOf(key) };
  }
  if (f.description !== undefined && typeof f.description !== "string") return { message: `"description" must be a string`, line: lineOf("description") };
  const args: DevPrompt["arguments"] = [];
  const values: DevPrompt["values"] = {};
  if (f.arguments !== undefined) {
    if (!Array.isArray(f.arguments)) return { message: `"arguments" must be a list of {name, description, required}`, line: lineOf("arguments") };
    for (const [i, a] of f.arguments.entries()) {
      const at = `arguments[${i}]`;
      if (typeof a === "string") {
        args.push({ name: a });
        continue;
      }
      if (typeof a !== "object" || a === null || Array.isArray(a)) return { message: `${at} must be a name or {name, description, required}`, line: lineOf("arguments") };
      const arg = a as Record<string, unknown>;
      const extra = Object.keys(arg).find((k) => !ARG_KEYS.has(k));
      if (extra) return { message: `${at}: unknown field "${extra}" (known: name, description, required)`, line: lineOf("arguments") };
      if (typeof arg.name !== "string" || !arg.name) return { message: `${at} needs a "name"`, line: lineOf("arguments") };
      if (arg.description !== undefined && typeof arg.description !== "string") return { message: `${at}.description must be a string`, line: lineOf("arguments") };
      if (arg.required !== undefined && typeof arg.required !== "boolean") return { message: `${at}.required must be true or false`, line: lineOf("arguments") };
      if (args.some((x) => x.name === arg.name)) return { message: `${at}: argument "${arg.name}" is declared twice`, line: lineOf("arguments") };
      if (arg.values !== undefined) {
        if (!Array.isArray(arg.values) || arg.values.some((v) => typeof v !== "string")) return { message: `${at}.values must be a list of strings (what completion offers)`, line: lineOf("arguments") };
        values[arg.name] = arg.values as string[];
      }
      args.push({ name: arg.name, ...(arg.description ? { description: arg.description as string } : {}), ...(arg.required ? { required: true } : {}) });
    }
  }
  const messages: DevPromptMessage[] = [];
  if (f.messages !== undefined) {
    if (!Array.isArray(f.messages)) return { message: `"messages" must be a list of {role, content}`, line: lineOf("messages") };
    for (const [i, msg] of f.messages.entries()) {
      const at = `messages[${i}]`;
      if (typeof msg !== "object" || msg === null || Array.isArray(msg)) return { message: `${at} must be {role, content}`, line: lineOf("messages") };
      const { role, content, ...rest } = msg as Record<string, unknown>;
      if (Object.keys(rest).length) return { message: `${at}: unknown field "${Object.keys(rest)[0]}" (known: role, content)`, line: lineOf("messages") };
      if (role !== "user" && role !== "assistant") return { message: `${at}.role must be "user" or "assistant"`, line: lineOf("messages") };
      if (typeof content !== "string") {
        const problem = contentBlockProblem(content, `${at}.content`);
        if (problem) return { message: problem, line: lineOf("messages") };
      }
      messages.push({ role, content: content as DevPromptMessage["content"] });
    }
  }
  return {
    name,
    rel,
    ...(f.description ? { description: f.description as string } : {}),
    arguments: args,
    values,
    messages,
    body: text.slice(m[0].length).trim(),
  };
}
