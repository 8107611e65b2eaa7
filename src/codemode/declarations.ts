/**
 * TypeScript declarations for a CODE-mode server's tools, generated from their
 * JSON Schemas, so an agent can write `await tools.<name>(input)` against types
 * (SPEC "Hosted MCP servers": read_api).
 */

type Schema = Record<string, unknown>;

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const MAX_DEPTH = 12;

function key(name: string): string {
  return IDENT.test(name) ? name : JSON.stringify(name);
}

function doc(text: unknown, indent: string): string {
  if (typeof text !== "string" || !text.trim()) return "";
  return `${indent}/** ${text.trim().replace(/\*\//g, "*\\/").replace(/\n+/g, `\n${indent} * `)} */\n`;
}

/** The TypeScript type a JSON Schema describes (loosely: what helps a writer, not a validator). */
export function typeOf(schema: unknown, indent = "", depth = 0): string {
  if (schema === true || schema === undefined) return "unknown";
  if (schema === false) return "never";
  if (typeof schema !== "object" || schema === null || depth > MAX_DEPTH) return "unknown";
  const s = schema as Schema;
  if ("const" in s) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(" | ") || "never";
  for (const k of ["anyOf", "oneOf"]) {
    if (Array.isArray(s[k])) return (s[k] as unknown[]).map((x) => typeOf(x, indent, depth + 1)).join(" | ") || "unknown";
  }
  if (Array.isArray(s.allOf)) return (s.allOf as unknown[]).map((x) => typeOf(x, indent, depth + 1)).join(" & ") || "unknown";
  if (Array.isArray(s.type)) return (s.type as unknown[]).map((t) => typeOf({ ...s, type: t }, indent, depth + 1)).join(" | ");
  switch (s.type) {
    case "string":
      return "string";
    case "number":
    case "integer":
      return "number";
    case "boolean":
      return "boolean";
    case "null":
      return "null";
    case "array": {
      const item = typeOf(s.items, indent, depth + 1);
      return /[|&]/.test(item) ? `Array<${item}>` : `${item}[]`;
    }
    case "object":
    case undefined: {
      const props = (s.properties ?? {}) as Record<string, unknown>;
      const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
      const inner = `${indent}  `;
      const fields = Object.entries(props).map(
        ([name, p]) => `${doc((p as Schema)?.description, inner)}${inner}${key(name)}${required.has(name) ? "" : "?"}: ${typeOf(p, inner, depth + 1)};`,
      );
      if (s.additionalProperties && typeof s.additionalProperties === "object") fields.push(`${inner}[key: string]: ${typeOf(s.additionalProperties, inner, depth + 1)};`);
      else if (s.type === undefined && !fields.length) return "unknown";
      return fields.length ? `{\n${fields.join("\n")}\n${indent}}` : "Record<string, unknown>";
    }
    default:
      return "unknown";
  }
}

/** One tool as the declaration of a method on `tools`. */
export interface DeclaredTool {
  name: string;
  description?: string;
  inputSchema: unknown;
  outputSchema?: unknown;
}

/** `declare const tools: { ... }` for the given tools. */
export function declarations(tools: DeclaredTool[]): string {
  const members = tools.map((t) => {
    const out = t.outputSchema ? typeOf(t.outputSchema, "  ") : "unknown";
    return `${doc(t.description, "  ")}  ${key(t.name)}(input: ${typeOf(t.inputSchema, "  ")}): Promise<${out}>;`;
  });
  return `declare const tools: {\n${members.join("\n")}\n};\n`;
}
