/**
 * Tool source → the plain JavaScript module the sandbox runs, cached per tool
 * version. TypeScript keeps its positions, so an error's line:column is the
 * author's (issue 15.6): its types are blanked out in place by amaro (Node's own
 * type stripper), which needs no source map. The few constructs that need code
 * (enum, namespace, parameter properties) are transformed instead, and the
 * module then carries its source map inline for the error path (sourcePosition.ts).
 * Bun's transpiler moves lines, so it is only the fallback for what amaro refuses.
 */
import { TS_FILE } from "./sourcePosition.ts";

type Amaro = typeof import("amaro");
/** Loaded on the first TypeScript tool (its wasm takes ~60 ms and ~40 MB): a server with only JS tools never pays. */
let amaro: Amaro | undefined;

const fallback = new Bun.Transpiler({ loader: "ts" });
const cache = new Map<string, string>();
const MAX_ENTRIES = 2000;

/** TypeScript as JavaScript at the same lines and columns, or with an inline map back to them. */
function stripTypes(source: string): string {
  amaro ??= require("amaro") as Amaro;
  // a trailing comment names the file for error messages without moving any position
  const named = `\n//# sourceURL=${TS_FILE}`;
  try {
    return amaro.transformSync(source, { mode: "strip-only", filename: TS_FILE }).code + named;
  } catch (err) {
    // what Bun accepts but amaro does not parse: run Bun's output, whose positions are the compiled tool.js's
    if ((err as { code?: string }).code !== "UnsupportedSyntax") return fallback.transformSync(source);
  }
  try {
    const out = amaro.transformSync(source, { mode: "transform", sourceMap: true, filename: TS_FILE });
    return out.map ? `${out.code}${named}\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(out.map).toString("base64")}` : out.code + named;
  } catch {
    return fallback.transformSync(source);
  }
}

/** Plain JS for a tool's source; `key` (tool id + version) caches it. */
export function compileTool(source: string, language: "js" | "ts", key?: string): string {
  if (key) {
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
  }
  const js = language === "ts" ? stripTypes(source) : source;
  if (key) {
    if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(key, js);
  }
  return js;
}
