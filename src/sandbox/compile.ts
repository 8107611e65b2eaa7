/**
 * Tool source → the plain JavaScript module the sandbox runs: TypeScript is
 * stripped with Bun's transpiler, and the result is cached per tool version.
 */

const transpilers = { ts: new Bun.Transpiler({ loader: "ts" }), js: new Bun.Transpiler({ loader: "js" }) };
const cache = new Map<string, string>();
const MAX_ENTRIES = 2000;

/** Plain JS for a tool's source; `key` (tool id + version) caches it. */
export function compileTool(source: string, language: "js" | "ts", key?: string): string {
  if (key) {
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
  }
  const js = language === "ts" ? transpilers.ts.transformSync(source) : source;
  if (key) {
    if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(key, js);
  }
  return js;
}
