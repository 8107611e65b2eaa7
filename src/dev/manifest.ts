/**
 * A dev folder's `mcp.json` (seed 004): the server's name (its endpoint is
 * `/mcp/<name>`), version and description, and where its tools, resources and
 * prompts live. A folder without a readable manifest cannot be served at all.
 */
import { readFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";

/** What mcp.json says, with the defaults filled in; paths are absolute. */
export interface Manifest {
  name: string;
  version: string;
  description?: string;
  paths: { tools: string; resources: string; prompts: string };
  /** What a resource file is published as, by its path inside the resources folder (optional per file). */
  resources: Record<string, ResourceMeta>;
}

/** mcp.json's `resources["<file>"]`: the URI (a template with {var} fills the file's {{var}}), names and type. */
export interface ResourceMeta {
  uri?: string;
  name?: string;
  title?: string;
  description?: string;
  mimeType?: string;
}
const META_KEYS = new Set(["uri", "name", "title", "description", "mimeType"]);

/** The folder cannot be served (no manifest, or a manifest that says nothing usable). */
export class FolderError extends Error {}

/** Names that are safe as one URL path segment and as a socket file name. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const KNOWN = new Set(["name", "version", "description", "paths", "resources", "$schema"]);
const PATH_KINDS = ["tools", "resources", "prompts"] as const;

/** Reads and checks `<dir>/mcp.json`. */
export function readManifest(dir: string): Manifest {
  const file = join(dir, "mcp.json");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FolderError(code === "ENOENT" ? `${dir} has no mcp.json: create one ({"name": "my-server", "version": "0.1.0"}) or run dzx init ${dir}` : `Cannot read ${file}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new FolderError(`mcp.json is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new FolderError("mcp.json must hold a JSON object");
  const m = raw as Record<string, unknown>;
  const unknown = Object.keys(m).filter((k) => !KNOWN.has(k));
  if (unknown.length) throw new FolderError(`mcp.json: unknown field${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => `"${k}"`).join(", ")} (known: name, version, description, paths, resources)`);
  if (typeof m.name !== "string" || !NAME.test(m.name)) {
    throw new FolderError(`mcp.json: "name" must be 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit (it names the endpoint /mcp/<name>)`);
  }
  if (m.version !== undefined && typeof m.version !== "string") throw new FolderError(`mcp.json: "version" must be a string such as "0.1.0"`);
  if (m.description !== undefined && typeof m.description !== "string") throw new FolderError(`mcp.json: "description" must be a string`);
  const given = m.paths ?? {};
  if (typeof given !== "object" || given === null || Array.isArray(given)) throw new FolderError(`mcp.json: "paths" must be an object such as {"tools": "tools"}`);
  const paths = {} as Manifest["paths"];
  for (const [k, v] of Object.entries(given)) {
    if (!(PATH_KINDS as readonly string[]).includes(k)) throw new FolderError(`mcp.json: unknown path "paths.${k}" (known: tools, resources, prompts)`);
    if (typeof v !== "string" || !v) throw new FolderError(`mcp.json: "paths.${k}" must be a folder path inside the project`);
  }
  for (const kind of PATH_KINDS) {
    const p = resolve(dir, ((given as Record<string, string>)[kind] ?? kind));
    const inside = relative(resolve(dir), p);
    if (inside.startsWith("..") || isAbsolute(inside)) throw new FolderError(`mcp.json: "paths.${kind}" must stay inside the folder`);
    paths[kind] = p;
  }
  const resources: Record<string, ResourceMeta> = {};
  const metas = m.resources ?? {};
  if (typeof metas !== "object" || metas === null || Array.isArray(metas)) throw new FolderError(`mcp.json: "resources" must map resource files to {uri, name, title, description, mimeType}`);
  for (const [file, meta] of Object.entries(metas)) {
    const at = `mcp.json: resources["${file}"]`;
    if (typeof meta !== "object" || meta === null || Array.isArray(meta)) throw new FolderError(`${at} must be an object {uri, name, title, description, mimeType}`);
    for (const [k, v] of Object.entries(meta)) {
      if (!META_KEYS.has(k)) throw new FolderError(`${at}: unknown field "${k}" (known: uri, name, title, description, mimeType)`);
      if (typeof v !== "string" || !v) throw new FolderError(`${at}.${k} must be a non-empty string`);
    }
    resources[file] = meta as ResourceMeta;
  }
  return { name: m.name, version: (m.version as string | undefined) ?? "0.0.0", ...(m.description ? { description: m.description as string } : {}), paths, resources };
}
