/**
 * The REST request that mirrors a management MCP call, built from the operation's
 * declared route — so a test looping over the operation table covers both surfaces.
 */
import type { Operation } from "../../src/management/operation.ts";

/** Method, path (with query on GET/DELETE) and body for `o` called with `args`. */
export function restRequest(o: Operation, args: Record<string, unknown>): { method: string; path: string; body?: unknown } {
  const used = new Set<string>();
  const path = o.rest.path.replace(/:(\w+)/g, (_, param: string) => {
    const arg = o.rest.rename?.[param] ?? param;
    used.add(arg);
    if (arg === "id" && args.id === undefined) used.add("slug");
    return encodeURIComponent(String(arg === "id" ? (args.id ?? args.slug) : args[arg]));
  });
  const rest = Object.fromEntries(Object.entries(args).filter(([k]) => !used.has(k)));
  if (o.rest.method === "GET" || o.rest.method === "DELETE") {
    const qs = new URLSearchParams(Object.entries(rest).map(([k, v]): [string, string] => [k, String(v)])).toString();
    return { method: o.rest.method, path: qs ? `${path}?${qs}` : path };
  }
  return { method: o.rest.method, path, body: o.rest.body ? args[o.rest.body] : rest };
}
