/**
 * A resource of a dev folder: any file under `resources/`, listed as
 * `resource://<name>` (its path inside resources/, without the extension), its
 * MIME type from the extension; text as text, anything else as a base64 blob.
 */
import type { McpResource } from "../mcp/catalog.ts";

/** A resource file found on disk (its contents are read when a client reads it). */
export interface DevResource {
  uri: string;
  name: string;
  /** Absolute path. */
  file: string;
  /** Path relative to the folder. */
  rel: string;
  mimeType: string;
  /** Sent as a base64 blob rather than text. */
  binary: boolean;
  /** Changes whenever the file does (notifications/resources/updated). */
  version: string;
}

const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|typescript|x-yaml|yaml|toml|x-sh|graphql|sql|ld\+json))|\+json$|\+xml$/;
const EXTRA_TEXT: Record<string, string> = { ".ts": "text/typescript", ".tsx": "text/typescript", ".yaml": "application/yaml", ".yml": "application/yaml", ".toml": "application/toml", ".csv": "text/csv", ".txt": "text/plain" };

/** The MIME type of a file name (charset parameters dropped). */
export function mimeTypeOf(fileName: string): string {
  const ext = /\.[^./]+$/.exec(fileName)?.[0]?.toLowerCase() ?? "";
  return EXTRA_TEXT[ext] ?? Bun.file(fileName).type.split(";")[0].trim();
}

/** Whether a MIME type is sent as text. */
export function isTextType(mimeType: string): boolean {
  return TEXT_TYPES.test(mimeType) || mimeType === "application/toml";
}

/** A found file as a resource named `name`. */
export function devResource(name: string, file: string, rel: string, version: string): DevResource {
  const mimeType = mimeTypeOf(file);
  return { uri: `resource://${name}`, name, file, rel, mimeType, binary: !isTextType(mimeType), version };
}

/** What resources/list shows. */
export function listingOf(r: DevResource): McpResource {
  return { uri: r.uri, name: r.name, mimeType: r.mimeType };
}

/** resources/read's contents of one resource, read from disk now. */
export async function readContents(r: DevResource): Promise<Record<string, unknown>> {
  const f = Bun.file(r.file);
  if (r.binary) return { uri: r.uri, mimeType: r.mimeType, blob: Buffer.from(await f.arrayBuffer()).toString("base64") };
  return { uri: r.uri, mimeType: r.mimeType, text: await f.text() };
}
