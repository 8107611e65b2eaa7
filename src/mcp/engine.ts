/**
 * The protocol engine: answers MCP requests against a Catalog. Transport-free —
 * it knows nothing of HTTP, databases or the sandbox.
 */
import { decodeOffset, encodeOffset } from "../offsetCursor.ts";
import type { CallContext, Catalog, CompletionContext, CompletionRef, ServerInfo } from "./catalog.ts";
import { failure, RpcCode, RpcError, type RpcRequest, type RpcResponse } from "./jsonrpc.ts";
import type { Session } from "./session.ts";
import { MODERN_VERSIONS } from "./rev2026.ts";
import { initializeProblem, negotiate, SUPPORTED_VERSIONS } from "./version.ts";
import type { CancelSignal } from "./cancellation.ts";
import type { Drain } from "./drain.ts";
import { Call } from "./call.ts";
import { InputRound } from "./inputRound.ts";
import type { RequestStateSeal } from "./requestState.ts";

/** Page size for list methods. */
const PAGE = 100;

/** Log levels of notifications/message, lowest first (RFC 5424 names). */
export const LOG_LEVELS = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];

/** Per-request facts the transport supplies. */
export interface RequestScope {
  session?: Session;
  signal: CancelSignal;
  progress?: CallContext["progress"];
  log?: CallContext["log"];
  /** What the client declared, when the lane carries it with each request (2026-07-28); else the session's. */
  clientCapabilities?: Record<string, unknown>;
  /** Sends a server→client request for this request (see CallContext.ask); `call` is the request's own cancellation. Absent when the client cannot be reached. */
  ask?(method: string, params: Record<string, unknown>, call: CancelSignal, signal?: AbortSignal): Promise<Record<string, unknown>>;
  /** Set on the 2026-07-28 lane: tools/call runs as multi round-trip rounds whose state is bound to `binding` (the server). */
  multiRoundTrip?: { binding: string };
  /** Called for unexpected errors; the client only sees a generic internal error. */
  onInternalError?(err: unknown): void;
}

type Handler = (catalog: Catalog, params: Record<string, unknown>, ctx: CallContext, scope: RequestScope) => unknown;

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

/** `context.arguments` of completion/complete: the string-valued entries, the rest ignored. */
function completionContext(context: unknown): CompletionContext | undefined {
  const args = (context as { arguments?: unknown } | null | undefined)?.arguments;
  if (typeof args !== "object" || args === null || Array.isArray(args)) return undefined;
  return { arguments: Object.fromEntries(Object.entries(args).filter(([, v]) => typeof v === "string")) as Record<string, string> };
}

function unsupported(what: string): never {
  throw new RpcError(RpcCode.MethodNotFound, `Method not found: this server has no ${what}`);
}

/** Serves MCP methods for one kind of server. */
export class McpEngine {
  private readonly methods: Record<string, Handler>;

  /**
   * `drain` tracks this engine's requests in flight so a shutdown can wait for them and stop the rest;
   * `requestState` seals the state of multi round-trip tool calls (without it, tools cannot ask on the 2026-07-28 lane).
   */
  constructor(
    private readonly info: ServerInfo,
    private readonly drain?: Drain,
    private readonly opts: { requestState?: RequestStateSeal } = {},
  ) {
    this.methods = {
      initialize: async (catalog, params, _ctx, scope) => {
        const problem = initializeProblem(params);
        if (problem) throw new RpcError(RpcCode.InvalidParams, problem);
        const protocolVersion = negotiate(params.protocolVersion);
        // a legacy SSE session exists before its initialize: what the client declares is learnt here
        const session = scope.session;
        if (session) {
          session.protocolVersion = protocolVersion;
          session.clientInfo = params.clientInfo;
          session.clientCapabilities = params.capabilities as Record<string, unknown> | undefined;
        }
        return {
          protocolVersion,
          capabilities: this.capabilities(catalog),
          serverInfo: { name: info.name, version: info.version, ...(info.title ? { title: info.title } : {}) },
          ...(info.instructions ? { instructions: info.instructions } : {}),
        };
      },
      ping: () => ({}),
      // the 2026-07-28 lane's handshake: what initialize answers, asked per need
      "server/discover": async (catalog) => ({
        supportedVersions: [...MODERN_VERSIONS, ...SUPPORTED_VERSIONS],
        capabilities: this.capabilities(catalog),
        ...(info.instructions ? { instructions: info.instructions } : {}),
      }),
      "tools/list": async (catalog, params, ctx) => {
        const { page, nextCursor } = paginate(await catalog.listTools(ctx), params.cursor);
        return { tools: page, ...(nextCursor ? { nextCursor } : {}) };
      },
      "tools/call": async (catalog, params, ctx, scope) => {
        const name = str(params, "name", "tools/call");
        const args = params.arguments ?? {};
        if (typeof args !== "object" || args === null || Array.isArray(args)) {
          throw new RpcError(RpcCode.InvalidParams, `Invalid params: "arguments" must be an object`);
        }
        const rounds = scope.multiRoundTrip;
        const seal = this.opts.requestState;
        if (!rounds || !seal) return catalog.callTool(ctx, name, args as Record<string, unknown>);
        const round = InputRound.open(params, { server: rounds.binding, tool: name, args: args as Record<string, unknown> }, seal, ctx.signal);
        const result = await catalog.callTool(round.context(ctx), name, args as Record<string, unknown>);
        return round.result() ?? result;
      },
      "resources/list": async (catalog, params, ctx) => {
        const all = catalog.listResources ? await catalog.listResources(ctx) : [];
        const { page, nextCursor } = paginate(all, params.cursor);
        return { resources: page, ...(nextCursor ? { nextCursor } : {}) };
      },
      "resources/templates/list": async (catalog, params, ctx) => {
        const all = catalog.listResourceTemplates ? await catalog.listResourceTemplates(ctx) : [];
        const { page, nextCursor } = paginate(all, params.cursor);
        return { resourceTemplates: page, ...(nextCursor ? { nextCursor } : {}) };
      },
      "resources/read": async (catalog, params, ctx) => {
        if (!catalog.readResource) unsupported("resources");
        return catalog.readResource(ctx, str(params, "uri", "resources/read"));
      },
      "resources/subscribe": async (catalog, params, _ctx, scope) => {
        if (!catalog.readResource) unsupported("resources");
        scope.session?.subscriptions.add(str(params, "uri", "resources/subscribe"));
        return {};
      },
      "resources/unsubscribe": async (catalog, params, _ctx, scope) => {
        if (!catalog.readResource) unsupported("resources");
        scope.session?.subscriptions.delete(str(params, "uri", "resources/unsubscribe"));
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
      "completion/complete": async (catalog, params, ctx) => {
        const ref = params.ref as Record<string, unknown> | undefined;
        const argument = params.argument as Record<string, unknown> | undefined;
        if (typeof ref !== "object" || ref === null || typeof ref.type !== "string") {
          throw new RpcError(RpcCode.InvalidParams, `Invalid params: completion/complete needs "ref" ({type:"ref/prompt", name} or {type:"ref/resource", uri})`);
        }
        if (typeof argument !== "object" || argument === null || typeof argument.name !== "string") {
          throw new RpcError(RpcCode.InvalidParams, `Invalid params: completion/complete needs "argument" ({name, value})`);
        }
        const value = typeof argument.value === "string" ? argument.value : "";
        const values = catalog.complete ? await catalog.complete(ctx, ref as CompletionRef, argument.name, value, completionContext(params.context)) : [];
        const capped = values.slice(0, PAGE);
        return { completion: { values: capped, total: values.length, hasMore: values.length > capped.length } };
      },
      "logging/setLevel": async (_catalog, params, _ctx, scope) => {
        const level = str(params, "level", "logging/setLevel");
        if (!LOG_LEVELS.includes(level)) throw new RpcError(RpcCode.InvalidParams, `Invalid params: level must be one of ${LOG_LEVELS.join(", ")}`);
        if (scope.session) scope.session.logLevel = level;
        return {};
      },
    };
  }

  /** Name and version sent to clients. */
  get serverInfo(): { name: string; version: string } {
    return { name: this.info.name, version: this.info.version };
  }

  /** Capabilities follow what the catalog implements. */
  capabilities(catalog: Catalog): Record<string, unknown> {
    return {
      tools: { listChanged: true },
      ...(catalog.readResource ? { resources: { subscribe: true, listChanged: true } } : {}),
      ...(catalog.getPrompt ? { prompts: { listChanged: true } } : {}),
      ...(catalog.complete ? { completions: {} } : {}),
      logging: {},
    };
  }

  /**
   * Answers one request; never throws (internal faults become -32603 without details).
   * Null when the client cancelled the request: it gets no result. A request the shutdown
   * stopped answers an error saying so. Synchronous when the method is: an await on the
   * hot path costs more than ping itself.
   */
  handle(catalog: Catalog, req: RpcRequest, scope: RequestScope): RpcResponse | null | Promise<RpcResponse | null> {
    const method = canonicalMethod(req.method);
    const handler = Object.hasOwn(this.methods, method) ? this.methods[method] : undefined;
    if (!handler) return failure(req.id, { code: RpcCode.MethodNotFound, message: `Method not found: ${req.method}` });
    const call = new Call(req.id, scope, this.drain);
    try {
      const value = handler(catalog, req.params ?? {}, call, scope);
      if (!(value instanceof Promise)) return call.answer(value);
      // only work that outlives this turn can be cancelled: no notification arrives before it returns
      call.track();
      return value.then(
        (v) => call.answer(v),
        (err) => call.fail(err),
      );
    } catch (err) {
      return call.fail(err);
    }
  }

  /** Acts on a client notification: cancellation aborts the named request of the same session. */
  notify(method: string, params: Record<string, unknown> | undefined, session: Session | undefined): void {
    const m = canonicalMethod(method);
    if (m === "notifications/cancelled" || m === "notifications/canceled") {
      const id = params?.requestId;
      if ((typeof id === "string" || typeof id === "number") && session) session.inflight.get(String(id))?.abort(new Error("cancelled by the client"));
    }
  }
}
