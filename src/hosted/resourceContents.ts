/**
 * What resources/read returns for a resource (issue 14, point 5): stored text, with a
 * template's `{{variable}}` placeholders filled; a stored blob; or a tool's result
 * turned into contents — a string as text, any other value as JSON text, and MCP
 * image, audio and embedded-resource blocks (explicit rich results) as blobs or text.
 */
import type { CallToolResult, ContentBlock } from "../mcp/catalog.ts";
import { renderTemplate } from "../platform/prompt.ts";
import type { ResourceRow } from "./definition.ts";

/** One entry of resources/read's `contents`. */
export type ResourceContents = { uri: string; mimeType?: string; text: string } | { uri: string; mimeType?: string; blob: string };

/** Raised when a tool's result cannot be resource contents; the message names the block and field. */
export class ContentsError extends Error {}

/** A JSON media type: values are escaped as JSON string content there, so a value cannot break the document. */
function isJson(mimeType: string | null): boolean {
  return mimeType !== null && /^application\/(?:[\w.+-]+\+)?json(?:\s*;|$)/i.test(mimeType);
}

/** Contents of a resource that stores its text or blob. */
export function storedContents(r: Pick<ResourceRow, "mimeType" | "blob" | "text">, uri: string, variables: Record<string, string>): ResourceContents {
  const mimeType = r.mimeType ?? undefined;
  if (r.blob !== null) return { uri, ...(mimeType ? { mimeType } : {}), blob: r.blob };
  const text = r.text ?? "";
  if (!Object.keys(variables).length) return { uri, ...(mimeType ? { mimeType } : {}), text };
  const json = isJson(r.mimeType);
  const values = json ? Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, JSON.stringify(v).slice(1, -1)])) : variables;
  return { uri, ...(mimeType ? { mimeType } : {}), text: renderTemplate(text, values) };
}

/** The text blocks of a result, joined: what an error result says. */
export function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === "text" ? String((c as { text: unknown }).text) : "")).join(" ");
}

/**
 * Contents of a tool-backed resource. A rich result (the tool's own blocks, built with
 * the sandbox's mcp.* helpers) gives one entry per block; a plain return value gives the
 * text dzx made of it, typed by what it was unless the resource names a mimeType.
 */
export function toolContents(r: ResourceRow, uri: string, result: CallToolResult, output: unknown, rich?: boolean): ResourceContents[] {
  if (rich) return result.content.map((b, i) => blockContents(b, i, uri, r.mimeType));
  const first = result.content[0];
  const text = first?.type === "text" ? String((first as { text: unknown }).text) : "";
  const mimeType = r.mimeType ?? (typeof output === "string" || output === undefined ? "text/plain" : "application/json");
  return [{ uri, mimeType, text }];
}

function field(b: object, where: string, name: string): string {
  const v = (b as Record<string, unknown>)[name];
  if (typeof v !== "string") throw new ContentsError(`${where}: "${name}" must be a string`);
  return v;
}

function blockContents(b: ContentBlock, i: number, uri: string, mimeType: string | null): ResourceContents {
  const where = `content[${i}] (${b.type})`;
  switch (b.type) {
    case "text":
      return { uri, mimeType: mimeType ?? "text/plain", text: field(b, where, "text") };
    case "image":
    case "audio":
      return { uri, mimeType: field(b, where, "mimeType"), blob: field(b, where, "data") };
    case "resource": {
      const res = (b as { resource?: unknown }).resource;
      if (typeof res !== "object" || res === null) throw new ContentsError(`${where}: "resource" must be an object`);
      const inner = res as Record<string, unknown>;
      const own = typeof inner.uri === "string" ? inner.uri : uri;
      const type = typeof inner.mimeType === "string" ? { mimeType: inner.mimeType } : {};
      if ("blob" in inner) return { uri: own, ...type, blob: field(inner, `${where}.resource`, "blob") };
      return { uri: own, ...type, text: field(inner, `${where}.resource`, "text") };
    }
    default:
      throw new ContentsError(`content[${i}] is a "${b.type}" block, which resource contents cannot hold (text, image, audio or resource)`);
  }
}
