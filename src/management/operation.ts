/**
 * One declaration per management operation — name, scope, argument schema, REST
 * route, handler. The MCP tool, the REST route and the OpenAPI entry are all
 * derived from it, never written twice.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import type { Config } from "../config.ts";
import type { Db } from "../database/index.ts";
import type { HostedDeps } from "../hosted/catalog.ts";
import type { CancelSignal } from "../mcp/cancellation.ts";
import type { SandboxPool } from "../sandbox/pool.ts";
import type { Principal } from "../platform/principal.ts";
import type { Scope } from "../platform/scope.ts";
import type { SecretBox } from "../platform/secretBox.ts";

/** What a handler gets besides its arguments. */
export interface OpContext {
  db: Db;
  principal: Principal;
  box: SecretBox;
  /** Public base URL (no trailing slash) used to build endpoint URLs. */
  baseUrl: string;
  sandbox: SandboxPool;
  config: Config;
  /** Announces that the caller's org changed, so hosted servers reload and notify their sessions. */
  announceChange?(): Promise<void>;
  /** Writes the call records still queued in memory, so a read of the log sees every finished call. */
  flushCalls?(): Promise<void>;
  /** What a hosted server's calls run with (operations that run a server's tools: execute-code). */
  hosted?: HostedDeps;
  /** Aborted when the caller goes or the shutdown's deadline stops the request; read only by work worth stopping. */
  readonly signal?: CancelSignal;
}

/** How the operation appears under /api/v1. */
export interface RestRoute {
  method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  /** Express-style path below /api/v1; `:name` segments become arguments of that name. */
  path: string;
  /** The JSON body becomes this argument (e.g. "tool", "patch"); absent: its fields merge into the arguments. */
  body?: string;
  /** Success status (default 200). */
  status?: number;
  /** Path parameters whose argument has another name (e.g. `{ id: "server" }`). */
  rename?: Record<string, string>;
}

/** A management operation. */
export interface Operation<S extends TSchema = TSchema> {
  name: string;
  scope: Scope;
  /** One line, shown in tools/list and OpenAPI. */
  description: string;
  args: S;
  rest: RestRoute;
  run(ctx: OpContext, args: Static<S>): Promise<unknown>;
}

/**
 * Declares an operation with its argument type inferred from the schema. Its top level is closed
 * (issue 15.9: `{window: "30d"}` quietly answered 7 days), so tools/list, OpenAPI and the argument
 * check all refuse a name the operation does not take; nested objects keep their own policy.
 */
export function operation<S extends TSchema>(op: Operation<S>): Operation {
  return { ...op, args: { ...op.args, additionalProperties: false } } as unknown as Operation;
}

/** `{id}` or `{slug}` of an asset. */
export const Ref = Type.Object({
  id: Type.Optional(Type.String({ minLength: 1, description: "The asset's id (its slug is accepted too)" })),
  slug: Type.Optional(Type.String({ minLength: 1, description: "The asset's slug" })),
});

/** Page arguments of list operations. */
export const PageArgs = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, description: "Page size (default 50)" })),
  cursor: Type.Optional(Type.String({ description: "nextCursor from the previous page" })),
});

/** Empty argument object. */
export const NoArgs = Type.Object({});
