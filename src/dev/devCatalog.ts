/**
 * The catalog of a dev folder: its tools run in the worker pool's trusted native
 * mode, arguments checked against the exported schema first; its resources read
 * from disk; its prompts rendered from their Markdown. One catalog per request,
 * over the folder as it was when the request came: a reload never changes a call
 * half-way.
 */
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020.js";
import { resolve } from "node:path";
import type { CallContext, CallToolResult, Catalog, CompletionRef } from "../mcp/catalog.ts";
import { askClient } from "../mcp/clientAsk.ts";
import { RpcCode, RpcError } from "../mcp/jsonrpc.ts";
import { LOG_LEVEL_OF, recordedOutcome } from "../hosted/catalog.ts";
import { argumentProblem } from "../hosted/publishedTool.ts";
import { matchingValues } from "../platform/completionSource.ts";
import { renderContent } from "../platform/prompt.ts";
import { shapeResult } from "../sandbox/output.ts";
import type { CallRequest } from "../sandbox/pool.ts";
import type { CallOutcome } from "../sandbox/protocol.ts";
import type { CallHistory } from "./callHistory.ts";
import { contextFor, type ContextFactory, type RequestView } from "./contextFile.ts";
import type { DevFolder } from "./folder.ts";
import { listingOf, readContents, templateListingOf, type DevResource } from "./resourceFile.ts";
import type { DevTool } from "./toolFile.ts";

const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false });
const validators = new WeakMap<DevTool, ValidateFunction>();

/** A folder as loaded, with what its requests need. */
export interface LoadedFolder {
  folder: DevFolder;
  context?: ContextFactory;
}

/** What a dev catalog runs with. */
export interface DevDeps {
  run(req: CallRequest): Promise<CallOutcome>;
  timeoutMs: number;
  history: CallHistory;
}

function toolError(message: string): CallToolResult {
  return { content: [{ type: "text", text: message }], isError: true };
}

/** The resource a URI names — its URI, the file's path (relative to the folder, absolute, or file://), or an expansion of its template — with the template's variables. */
function resourceFor(folder: DevFolder, uri: string): { r: DevResource; variables?: Record<string, string> } | undefined {
  const byUri = folder.resources.find((r) => !r.template && r.uri === uri);
  if (byUri) return { r: byUri };
  const path = uri.startsWith("file://") ? decodeURIComponent(uri.slice(7)) : uri;
  const abs = resolve(folder.dir, path);
  const byPath = folder.resources.find((r) => !r.template && r.file === abs);
  if (byPath) return { r: byPath };
  for (const r of folder.resources) {
    const variables = r.template?.match(uri);
    if (variables) return { r, variables };
  }
  return undefined;
}

/** The catalog for one request (`view`: the HTTP request, for the context function). */
export function devCatalog(loaded: LoadedFolder, deps: DevDeps, view?: RequestView): Catalog {
  const { folder } = loaded;
  const byName = new Map(folder.tools.map((t) => [t.name, t]));
  const server = { id: folder.manifest.name, slug: folder.manifest.name, name: folder.manifest.name };

  async function run(ctx: CallContext, t: DevTool, args: Record<string, unknown>): Promise<CallToolResult> {
    const started = new Date().toISOString();
    const record = (status: "ok" | "error" | "cancelled", durationMs: number, output: unknown, error: string | null, logs: { level: "log" | "info" | "warn" | "error" | "debug"; message: string }[] = []) =>
      deps.history.add({ at: started, tool: t.name, status, durationMs, input: args, output, error, logs });
    let validate = validators.get(t);
    if (!validate) validators.set(t, (validate = ajv.compile(t.listing.inputSchema)));
    if (!validate(args)) {
      const message = `Invalid arguments for ${t.name}: ${argumentProblem(validate.errors)}`;
      record("error", 0, undefined, message);
      return toolError(message);
    }
    let extra: Record<string, unknown>;
    try {
      extra = await contextFor(loaded.context, view, folder.context?.rel ?? "context.ts");
    } catch (err) {
      const message = (err as Error).message;
      record("error", 0, undefined, message);
      return toolError(message);
    }
    const log = ctx.log;
    const outcome = await deps.run({
      orgId: "dev",
      codeKey: t.version,
      code: t.file,
      kind: "module",
      input: args,
      context: { requestId: ctx.requestId, endUserId: null, server, secrets: {}, ...extra },
      limits: { timeoutMs: deps.timeoutMs },
      signal: ctx.signal,
      onProgress: ctx.progress,
      onLog: log && ((line) => log(LOG_LEVEL_OF[line.level] ?? "info", { tool: t.name, message: line.message })),
      onAsk: (method, params, signal) => askClient(ctx, method, params, signal),
    });
    const shaped = shapeResult(outcome, t.outputSchema);
    const r = recordedOutcome(outcome, shaped, ctx.signal);
    record(r.status, r.durationMs, r.output, r.error, r.logs);
    return shaped.result;
  }

  return {
    listTools: async () => folder.tools.map((t) => t.listing),
    callTool: async (ctx, name, args) => {
      const t = byName.get(name);
      if (!t) throw new RpcError(RpcCode.InvalidParams, `Unknown tool: "${name}"; tools/list shows this server's tools`);
      return run(ctx, t, args);
    },
    listResources: async () => folder.resources.filter((r) => !r.template).map(listingOf),
    listResourceTemplates: async () => folder.resources.filter((r) => r.template).map(templateListingOf),
    readResource: async (_ctx, uri) => {
      const hit = resourceFor(folder, uri);
      if (!hit) throw new RpcError(RpcCode.InvalidParams, `Resource not found: "${uri}"; resources/list shows this server's resources (by resource://<name> or by file path)`, { uri });
      return { contents: [await readContents(hit.r, uri, hit.variables)] };
    },
    listPrompts: async () =>
      folder.prompts.map((p) => ({ name: p.name, ...(p.description ? { description: p.description } : {}), arguments: p.arguments })),
    getPrompt: async (_ctx, name, args) => {
      const p = folder.prompts.find((x) => x.name === name);
      if (!p) throw new RpcError(RpcCode.InvalidParams, `Unknown prompt: "${name}"; prompts/list shows this server's prompts`);
      for (const a of p.arguments) {
        if (a.required && (args[a.name] === undefined || args[a.name] === "")) throw new RpcError(RpcCode.InvalidParams, `Invalid params: prompt "${name}" requires argument "${a.name}"`);
      }
      for (const [k, v] of Object.entries(args)) {
        if (typeof v !== "string") throw new RpcError(RpcCode.InvalidParams, `Invalid params: prompt argument "${k}" must be a string`);
      }
      const messages = [...p.messages, ...(p.body ? [{ role: "user" as const, content: p.body }] : [])];
      return {
        ...(p.description ? { description: p.description } : {}),
        messages: messages.map((msg) => ({ role: msg.role, content: renderContent(msg.content as never, args) })),
      };
    },
    ...(folder.prompts.some((p) => Object.keys(p.values).length)
      ? {
          complete: async (_ctx: CallContext, ref: CompletionRef, argument: string, value: string) => {
            if (ref.type !== "ref/prompt") return [];
            const values = folder.prompts.find((p) => p.name === (ref as { name: string }).name)?.values[argument];
            return values ? matchingValues(values, value) : [];
          },
        }
      : {}),
  };
}
