/**
 * MCP content blocks (text, image, audio, embedded resource, resource link) as a tool
 * result or a prompt message carries them: the one check every producer is held to,
 * field by field, so a bad block is refused with its path ("content[2].mimeType is
 * required for image") before a client's schema would reject the whole message, and
 * the summary a record keeps of one (binary data as its size, never the base64).
 */

/** The block types MCP defines (2025-06-18 onwards). */
export const BLOCK_TYPES = ["text", "image", "audio", "resource", "resource_link"] as const;
export type BlockType = (typeof BLOCK_TYPES)[number];

/** A block that passed contentBlockProblem. */
export type ContentBlock = { type: BlockType; [k: string]: unknown };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const MIME = /^[\w.+-]+\/[\w.+-]+(\s*;.*)?$/;
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

type Check = (v: unknown, at: string) => string | null;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Whether text is canonical base64 (padded, no whitespace). */
export function isBase64(text: string): boolean {
  return text.length % 4 === 0 && BASE64.test(text);
}

const string: Check = (v, at) => (typeof v === "string" ? null : `${at} must be a string`);
const nonEmpty: Check = (v, at) => (typeof v === "string" && v.length > 0 ? null : `${at} must be a non-empty string`);
const base64: Check = (v, at) =>
  typeof v !== "string" ? `${at} must be base64 text (the helpers encode a Uint8Array or ArrayBuffer)` : isBase64(v) ? null : `${at} is not base64 (A-Z, a-z, 0-9, +, / with = padding)`;
const mimeType: Check = (v, at) => (typeof v === "string" && MIME.test(v) ? null : `${at} ${typeof v === "string" ? `"${v.slice(0, 100)}" is not a MIME type (type/subtype, e.g. image/png)` : "must be a MIME type string"}`);
const meta: Check = (v, at) => (isObject(v) ? null : `${at} must be an object`);
const size: Check = (v, at) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? null : `${at} must be a number of bytes (0 or more)`);
const annotations: Check = (v, at) => {
  if (!isObject(v)) return `${at} must be an object`;
  for (const k of Object.keys(v)) if (!["audience", "priority", "lastModified"].includes(k)) return `${at}.${k} is not an annotation (audience, priority, lastModified)`;
  if (v.audience !== undefined && (!Array.isArray(v.audience) || v.audience.some((r) => r !== "user" && r !== "assistant"))) return `${at}.audience must be an array of "user" and "assistant"`;
  if (v.priority !== undefined && (typeof v.priority !== "number" || !(v.priority >= 0 && v.priority <= 1))) return `${at}.priority must be a number from 0 to 1`;
  if (v.lastModified !== undefined && (typeof v.lastModified !== "string" || !ISO_DATETIME.test(v.lastModified))) return `${at}.lastModified must be an ISO 8601 date-time with an offset`;
  return null;
};
const icons: Check = (v, at) => {
  if (!Array.isArray(v)) return `${at} must be an array`;
  for (let i = 0; i < v.length; i++) {
    const problem = fields(v[i], `${at}[${i}]`, "icon", { src: [true, nonEmpty], mimeType: [false, string], sizes: [false, strings], theme: [false, theme] });
    if (problem) return problem;
  }
  return null;
};
const strings: Check = (v, at) => (Array.isArray(v) && v.every((s) => typeof s === "string") ? null : `${at} must be an array of strings`);
const theme: Check = (v, at) => (v === "light" || v === "dark" ? null : `${at} must be "light" or "dark"`);

/** Field name → [required, check]. */
type Fields = Record<string, [required: boolean, check: Check]>;

/** Checks an object's fields: required ones present, each valid, no field the kind does not have. */
function fields(v: unknown, at: string, kind: string, spec: Fields): string | null {
  if (!isObject(v)) return `${at} must be an object (${kind})`;
  for (const k of Object.keys(v)) if (!(k in spec)) return `${at}.${k} is not a field of ${kind} (fields: ${Object.keys(spec).join(", ")})`;
  for (const [k, [required, check]] of Object.entries(spec)) {
    if (v[k] === undefined) {
      if (required) return `${at}.${k} is required for ${kind}`;
      continue;
    }
    const problem = check(v[k], `${at}.${k}`);
    if (problem) return problem;
  }
  return null;
}

const COMMON: Fields = { annotations: [false, annotations], _meta: [false, meta] };
const embedded: Check = (v, at) => {
  if (!isObject(v)) return `${at} must be an object: {uri, mimeType?, text | blob}`;
  if ((v.text === undefined) === (v.blob === undefined)) return `${at} needs exactly one of text or blob (base64)`;
  return fields(v, at, "an embedded resource", { uri: [true, nonEmpty], mimeType: [false, mimeType], text: [false, string], blob: [false, base64], _meta: [false, meta] });
};

const SPECS: Record<BlockType, Fields> = {
  text: { text: [true, string], ...COMMON },
  image: { data: [true, base64], mimeType: [true, mimeType], ...COMMON },
  audio: { data: [true, base64], mimeType: [true, mimeType], ...COMMON },
  resource: { resource: [true, embedded], ...COMMON },
  resource_link: {
    uri: [true, nonEmpty],
    name: [true, nonEmpty],
    title: [false, string],
    description: [false, string],
    mimeType: [false, mimeType],
    size: [false, size],
    icons: [false, icons],
    ...COMMON,
  },
};

/** Why `value` is not a valid content block, naming the field under `at` (e.g. "content[2]"), or null. */
export function contentBlockProblem(value: unknown, at: string): string | null {
  if (!isObject(value)) return `${at} must be a content block object ({type, ...})`;
  const type = value.type;
  if (typeof type !== "string" || !(BLOCK_TYPES as readonly string[]).includes(type)) {
    return `${at}.type ${typeof type === "string" ? `"${type.slice(0, 100)}" is not a content block type` : "is required"}: use ${BLOCK_TYPES.join(", ")}`;
  }
  return fields(value, at, type === "resource_link" ? "a resource_link" : type, { type: [true, string], ...SPECS[type as BlockType] });
}

/** Bytes that base64 text decodes to. */
export function base64Bytes(text: string): number {
  const pad = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  return (text.length / 4) * 3 - pad;
}

/**
 * A valid block as records keep it: text as is, binary data (image and audio `data`, an
 * embedded resource's `blob`) as `{type, mimeType, bytes}` — its size, never its content.
 */
export function summarizeBlock(block: ContentBlock): Record<string, unknown> {
  if ((block.type === "image" || block.type === "audio") && typeof block.data === "string") {
    return { type: block.type, mimeType: block.mimeType, bytes: base64Bytes(block.data) };
  }
  const r = block.resource as Record<string, unknown> | undefined;
  if (block.type === "resource" && typeof r?.blob === "string") {
    return { type: "resource", resource: { uri: r.uri, ...(r.mimeType !== undefined ? { mimeType: r.mimeType } : {}), bytes: base64Bytes(r.blob) } };
  }
  return block;
}
