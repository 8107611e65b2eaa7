/**
 * Runs one operation for a principal: scope check, argument validation, handler.
 * Both surfaces (MCP tools/call and REST) come through here, so they cannot differ.
 */
import type { TSchema } from "@sinclair/typebox";
import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";
import { DomainError } from "../platform/domainError.ts";
import { grants } from "../platform/scope.ts";
import type { Operation, OpContext } from "./operation.ts";

const checks = new WeakMap<TSchema, TypeCheck<TSchema>>();

function checkerFor(schema: TSchema): TypeCheck<TSchema> {
  let c = checks.get(schema);
  if (!c) checks.set(schema, (c = TypeCompiler.Compile(schema)));
  return c;
}

/** Turns a JSON pointer into a readable argument path ("/tool/name" → "tool.name"). */
function argPath(pointer: string): string {
  return pointer.replace(/^\//, "").replace(/\//g, ".") || "arguments";
}

/** Throws VALIDATION_ERROR naming the first bad argument. */
export function validateArgs(op: Operation, args: unknown): void {
  const check = checkerFor(op.args);
  if (check.Check(args)) return;
  const e = check.Errors(args).First();
  const where = argPath(e?.path ?? "");
  throw new DomainError("VALIDATION_ERROR", `Invalid argument "${where}" for ${op.name}: ${e?.message ?? "invalid value"}`, { path: where });
}

/** Scope first (no side effect without it), then arguments, then the handler. */
export async function invoke(op: Operation, ctx: OpContext, args: unknown): Promise<unknown> {
  if (!grants(ctx.principal.scopes, op.scope)) {
    throw new DomainError("FORBIDDEN_SCOPE", `${op.name} requires scope "${op.scope}", which this key lacks`, { requiredScope: op.scope });
  }
  validateArgs(op, args);
  return op.run(ctx, args as never);
}
