/**
 * A dev folder read from disk: its manifest, tools, resources and prompts, and
 * every file that could not be served with the reason and line. One broken file
 * never costs the others; only a missing or unusable mcp.json stops the folder.
 */
import { readdirSync, readFileSync, statSync, type Dirent } from "node:fs";
import { basename, extname, join, relative, sep } from "node:path";
import { readManifest, type Manifest } from "./manifest.ts";
import { probeTools } from "./probe.ts";
import { parsePrompt, type DevPrompt } from "./promptFile.ts";
import { devResource, type DevResource } from "./resourceFile.ts";
import { devTool, type DevTool } from "./toolFile.ts";

/** A file that is not served, and why. */
export interface BrokenFile {
  kind: "tool" | "resource" | "prompt" | "context";
  /** Path relative to the folder. */
  file: string;
  message: string;
  line?: number;
  column?: number;
}

/** The context file (src/context.ts or context.ts), when the folder has one. */
export interface ContextFile {
  file: string;
  rel: string;
  version: string;
}

/** Everything the folder serves right now. */
export interface DevFolder {
  dir: string;
  manifest: Manifest;
  tools: DevTool[];
  resources: DevResource[];
  prompts: DevPrompt[];
  context?: ContextFile;
  broken: BrokenFile[];
}

const TOOL_EXT = new Set([".ts", ".js", ".mts", ".mjs"]);
const CONTEXT_FILES = ["src/context.ts", "src/context.js", "context.ts", "context.js"];

/** A file's version: it changes whenever the file is written. */
export function versionOf(file: string): string {
  const s = statSync(file);
  return `${Math.round(s.mtimeMs * 1000)}-${s.size}`;
}

function entries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch {
    return [];
  }
}

const hidden = (name: string) => name.startsWith(".");

/** Tool files: the folder's top level only (sub-folders hold helpers); no tests or declarations. */
function toolFiles(dir: string): string[] {
  return entries(dir)
    .filter((e) => e.isFile() && !hidden(e.name) && TOOL_EXT.has(extname(e.name)) && !/\.(d|test|spec)\.[mc]?[jt]s$/.test(e.name))
    .map((e) => join(dir, e.name));
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of entries(dir)) {
    if (hidden(e.name) || e.name === "node_modules") continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** Reads the whole folder; `stamp` versions this reload's imports. */
export async function loadFolder(dir: string, stamp = String(Date.now())): Promise<DevFolder> {
  const manifest = readManifest(dir);
  const rel = (f: string) => relative(dir, f).split(sep).join("/");
  const broken: BrokenFile[] = [];

  const files = toolFiles(manifest.paths.tools);
  const probed = await probeTools(files, stamp);
  const tools: DevTool[] = [];
  const toolNames = new Map<string, string>();
  for (const file of files) {
    const name = basename(file, extname(file));
    if (toolNames.has(name)) {
      broken.push({ kind: "tool", file: rel(file), message: `another file (${toolNames.get(name)}) already defines the tool "${name}"` });
      continue;
    }
    const t = devTool(name, file, rel(file), versionOf(file), probed.get(file)!);
    if ("message" in t) broken.push({ kind: "tool", file: rel(file), ...t });
    else (tools.push(t), toolNames.set(name, rel(file)));
  }

  const resources: DevResource[] = [];
  const resourceNames = new Map<string, string>();
  for (const file of filesUnder(manifest.paths.resources)) {
    const inside = relative(manifest.paths.resources, file).split(sep).join("/");
    const name = inside.replace(/\.[^./]+$/, "");
    if (resourceNames.has(name)) {
      broken.push({ kind: "resource", file: rel(file), message: `another file (${resourceNames.get(name)}) is already resource://${name}` });
      continue;
    }
    try {
      resources.push(devResource(name, file, rel(file), versionOf(file), manifest.resources[inside]));
      resourceNames.set(name, rel(file));
    } catch (e) {
      broken.push({ kind: "resource", file: rel(file), message: `mcp.json gives it the URI template "${manifest.resources[inside]?.uri}": ${(e as Error).message}` });
    }
  }

  for (const file of Object.keys(manifest.resources)) {
    if (!resources.some((r) => relative(manifest.paths.resources, r.file).split(sep).join("/") === file) && !broken.some((b) => b.file === rel(join(manifest.paths.resources, file)))) {
      broken.push({ kind: "resource", file: "mcp.json", message: `resources["${file}"] names a file that ${rel(manifest.paths.resources)}/ does not have` });
    }
  }

  const prompts: DevPrompt[] = [];
  for (const e of entries(manifest.paths.prompts)) {
    if (!e.isFile() || hidden(e.name) || extname(e.name) !== ".md") continue;
    const file = join(manifest.paths.prompts, e.name);
    const p = parsePrompt(basename(e.name, ".md"), rel(file), readFileSync(file, "utf8"));
    if ("message" in p) broken.push({ kind: "prompt", file: rel(file), ...p });
    else prompts.push(p);
  }

  const contextRel = CONTEXT_FILES.find((f) => {
    try {
      return statSync(join(dir, f)).isFile();
    } catch {
      return false;
    }
  });
  const context = contextRel ? { file: join(dir, contextRel), rel: contextRel, version: versionOf(join(dir, contextRel)) } : undefined;
  return { dir, manifest, tools, resources, prompts, ...(context ? { context } : {}), broken };
}
