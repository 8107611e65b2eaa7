/**
 * Context injection (seed 004): the default export of `src/context.ts` (or
 * `context.ts`) receives the HTTP request and its result is the second argument
 * of every tool. It gets the request as seed 004's example reads it — `headers`
 * as a plain object with lower-cased names, `method`, `url` — since a fetch
 * Request's headers cannot be indexed (`req.headers["x-request-id"]`).
 */
import { positionIn, where } from "./sourcePosition.ts";
import type { BrokenFile, ContextFile } from "./folder.ts";

/** The request as the context function sees it. */
export interface RequestView {
  method: string;
  url: string;
  headers: Record<string, string>;
}

/** Builds a tool's extra context for one request. */
export type ContextFactory = (req: RequestView) => unknown;

/** The request, as the context function sees it. */
export function requestView(request: Request): RequestView {
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => (headers[name.toLowerCase()] = value));
  return { method: request.method, url: request.url, headers };
}

/** Imports the context file; a failure is a broken file (tools then run without it). */
export async function loadContext(ctx: ContextFile): Promise<ContextFactory | BrokenFile> {
  try {
    const mod = await import(`${ctx.file}?v=${encodeURIComponent(ctx.version)}`);
    if (typeof mod.default !== "function") return { kind: "context", file: ctx.rel, message: "no default export: export default function createContext(req) { return { … } }" };
    return mod.default as ContextFactory;
  } catch (err) {
    return { kind: "context", file: ctx.rel, message: (err as Error)?.message ?? String(err), ...positionIn(err, ctx.file) };
  }
}

/** The context for one call: a plain object (what JSON keeps of it crosses to the tool's worker). */
export async function contextFor(factory: ContextFactory | undefined, view: RequestView | undefined, rel: string): Promise<Record<string, unknown>> {
  if (!factory || !view) return {};
  let value: unknown;
  try {
    value = await factory(view);
  } catch (err) {
    throw new Error(`${where(rel, positionIn(err, rel))}: the context function failed: ${(err as Error)?.message ?? String(err)}`);
  }
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw new Error(`${rel}: the context function must return an object, got ${Array.isArray(value) ? "an array" : typeof value}`);
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}
