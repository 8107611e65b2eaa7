/**
 * A resource of a dev folder: any file under `resources/`, listed as
 * `resource://<name>` (its path inside resources/, without the extension), its
 * MIME type from the extension; text as text, anything else as a base64 blob.
 */
import { storedContents } from "../hosted/resourceContents.ts";
import type { McpResource, McpResourceTemplate } from "../mcp/catalog.ts";
import { isUriTemplate, parseUriTemplate, type UriTemplate } from "../uriTemplate.ts";
import type { ResourceMeta } from "./manifest.ts";

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
  title?: string;
  description?: string;
  /** Set when the uri is a URI template: reads fill the file's {{var}} from the URI. */
  template?: UriTemplate;
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
export function devResource(name: string, file: string, rel: string, version: string, meta: ResourceMeta = {}): DevResource {
  const mimeType = meta.mimeType ?? mimeTypeOf(file);
  const uri = meta.uri ?? `resource://${name}`;
  // a template that does not parse throws UriTemplateError: the folder reports the file broken
  const template = isUriTemplate(uri) ? parseUriTemplate(uri) : undefined;
  return {
    uri,
    name: meta.name ?? name,
    file,
    rel,
    mimeType,
    binary: !isTextType(mimeType),
    version,
    ...(meta.title ? { title: meta.title } : {}),
    ...(meta.description ? { description: meta.description } : {}),
    ...(template ? { template } : {}),
  };
}

const shown = (r: DevResource) => ({ name: r.name, ...(r.title ? { title: r.title } : {}), ...(r.description ? { description: r.description } : {}), mimeType: r.mimeType });

/** What resources/list shows. */
export function listingOf(r: DevResource): McpResource {
  return { uri: r.uri, ...shown(r) };
}

/** What resources/templates/list shows. */
export function templateListingOf(r: DevResource): McpResourceTemplate {
  return { uriTemplate: r.uri, ...shown(r) };
}

/** resources/read's contents of `uri`, read from disk now (a template's {{var}} filled from `variables`). */
export async function readContents(r: DevResource, uri: string, variables: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const f = Bun.file(r.file);
  if (r.binary) return { uri, mimeType: r.mimeType, blob: Buffer.from(await f.arrayBuffer()).toString("base64") };
  return storedContents({ mimeType: r.mimeType, blob: null, text: await f.text() }, uri, variables);
}
