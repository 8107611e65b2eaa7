/**
 * The protocol engine: answers MCP requests against a Catalog. Transport-free —
 * it knows nothing of HTTP, databases or the sandbox.
 */
import { decodeOffset, encodeOffset } from "../offsetCursor.ts";
import type { CallContext, Catalog, ServerInfo } from "./catalog.ts";
import { failure, result, RpcCode, RpcError, type RpcRequest, type RpcResponse } from "./jsonrpc.ts";
import type { Session } from "./session.ts";
import { negotiate } from "./version.ts";

/** Page size for list methods. */
const PAGE = 100;

/** Log levels of notifications/message, lowest first (RFC 5424 names). */
export const LOG_LEVELS = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

/** Per-request facts the transport supplies. */
export interface RequestScope {
  session?: Session;
  signal: AbortSignal;
  progress?: CallContext["progress"];
  log?: CallContext["log"];
  /** Called for unexpected errors; the client only sees a generic internal error. */
  onInternalError?(err: unknown): void;
}

type Handler = (catalog: Catalog, params: Record<string, unknown>, ctx: CallContext, scope: RequestScope) => Promise<unknown>;

/** `tools.list` and `tools/list` are the same method (seed 004). */
export function canonicalMethod(method: string): string {
  return method.includes("/") ? method : method.replace(/\./g, "/");
}

function paginate<T>(items: T[], cursor: unknown): { page: T[]; nextCursor?: string } {
  let offset = 0;
  if (cursor !== undefined) {
    const n = decodeOffset(cursor);
    if (n === undefined) throw new RpcError(RpcCode.InvalidParams, "Invalid params: unknown cursor; pass nextCursor from a previous page");
    offset = n;
  }
  const page = items.slice(offset, offset + PAGE);
  const next = offset + page.length < items.length ? encodeOffset(offset + page.length) : undefined;
  return next ? { page, nextCursor: next } : { page };
}

function str(params: Record<string, unknown>, key: string, method: string): string {
  const v = params[key];
  if (typeof v !== "string" || v === "") throw new RpcError(RpcCode.InvalidParams, `Invalid params: ${method} needs "${key}" (a string)`);
  return v;
}

function unsupported(what: string): never {
  throw new RpcError(RpcCode.MethodNotFound, `Method not found: this server has no ${what}`);
}

/** Serves MCP methods for one kind of server. */
export class McpEngine {
  private readonly methods: Record<string, Handler>;

  constructor(private readonly info: ServerInfo) {
    this.methods = {
      initialize: async (catalog, params) => ({
        protocolVersion: negotiate(params.protocolVersion),
        capabilities: this.capabilities(catalog),
        serverInfo: { name: info.name, version: info.version, ...(info.title ? { title: info.title } : {}) },
        ...(info.instructions ? { instructions: info.instructions } : {}),
      }),
      ping: async () => ({}),
      "tools/list": async (catalog, params, ctx) => {
        const { page, nextCursor } = paginate(await catalog.listTools(ctx), params.cursor);
        return { tools: page, ...(nextCursor ? { nextCursor } : {}) };
      },
      "tools/call": async (catalog, params, ctx) => {
        const name = str(params, "name", "tools/call");
        const args = params.arguments ?? {};
        if (typeof args !== "object" || args === null || Array.isArray(args)) {
          throw new RpcError(RpcCode.InvalidParams, `Invalid params: "arguments" must be an object`);
        }
        return catalog.callTool(ctx, name, args as Record<string, unknown>);
      },
      "resources/list": async (catalog, params, ctx) => {
        const all = catalog.listResources ? await catalog.listResources(ctx) : [];
        const { page, nextCursor } = paginate(all, params.cursor);
        return { resources: page, ...(nextCursor ? { nextCursor } : {}) };
      },
      "resources/templates/list": async () => ({ resourceTemplates: [] }),
      "resources/read": async (catalog, params, ctx) => {
        if (!catalog.readResource) unsupported("resources");
        return catalog.readResource(ctx, str(params, "uri", "resources/read"));
      },
      "resources/subscribe": async (catalog, params) => {
        if (!catalog.readResource) unsupported("resources");
        str(params, "uri", "resources/subscribe");
        return {};
      },
      "resources/unsubscribe": async (catalog, params) => {
        if (!catalog.readResource) unsupported("resources");
        str(params, "uri", "resources/unsubscribe");
        return {};
      },
      "prompts/list": async (catalog, params, ctx) => {
        const all = catalog.listPrompts ? await catalog.listPrompts(ctx) : [];
        const { page, nextCursor } = paginate(all, params.cursor);
        return { prompts: page, ...(nextCursor ? { nextCursor } : {}) };
      },
      "prompts/get": async (catalog, params, ctx) => {
        if (!catalog.getPrompt) unsupported("prompts");
        const args = params.arguments ?? {};
        if (typeof args !== "object" || args === null || Array.isArray(args)) {
          throw new RpcError(RpcCode.InvalidParams, `Invalid params: "arguments" must be an object of strings`);
        }
        return catalog.getPrompt(ctx, str(params, "name", "prompts/get"), args as Record<string, string>);
      },
      "logging/setLevel": async (_catalog, params, _ctx, scope) => {
        const level = str(params, "level", "logging/setLevel");
        if (!LOG_LEVELS.includes(level)) throw new RpcError(RpcCode.InvalidParams, `Invalid params: level must be one of ${LOG_LEVELS.join(", ")}`);
        if (scope.session) scope.session.logLevel = level;
        return {};
      },
    };
  }

  /** Capabilities follow what the catalog implements. */
  capabilities(catalog: Catalog): Record<string, unknown> {
    return {
      tools: { listChanged: true },
      ...(catalog.readResource ? { resources: { subscribe: true, listChanged: true } } : {}),
      ...(catalog.getPrompt ? { prompts: { listChanged: true } } : {}),
      logging: {},
    };
  }

  /** Answers one request; never throws (internal faults become -32603 without details). */
  async handle(catalog: Catalog, req: RpcRequest, scope: RequestScope): Promise<RpcResponse> {
    const method = canonicalMethod(req.method);
    const handler = Object.hasOwn(this.methods, method) ? this.methods[method] : undefined;
    if (!handler) return failure(req.id, { code: RpcCode.MethodNotFound, message: `Method not found: ${req.method}` });
    const ctx: CallContext = {
      requestId: String(req.id),
      sessionId: scope.session?.id,
      signal: scope.signal,
      progress: scope.progress,
      log: scope.log,
    };
    try {
      return result(req.id, await handler(catalog, req.params ?? {}, ctx, scope));
    } catch (err) {
      if (err instanceof RpcError) return failure(req.id, err.toBody());
      scope.onInternalError?.(err);
      return failure(req.id, { code: RpcCode.InternalError, message: "Internal error" });
    }
  }
}
