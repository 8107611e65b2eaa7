/**
 * Runs one operation for a principal: scope check, argument validation, handler.
 * Both surfaces (MCP tools/call and REST) come through here, so they cannot differ.
 */
import type { TObject, TSchema } from "@sinclair/typebox";
import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";
import type { ValueError } from "@sinclair/typebox/errors";
import { DomainError } from "../platform/domainError.ts";
import { checkArgumentNames } from "./argumentShape.ts";
import { sqlState } from "../platform/pgError.ts";
import type { Principal } from "../platform/principal.ts";
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

/** Why PostgreSQL cannot store this text, if it cannot: U+0000, or a lone surrogate (jsonb refuses its escape). */
function unstorable(text: string): string | undefined {
  if (text.includes("\u0000")) return "text must not contain U+0000";
  if (!text.isWellFormed()) return "text must be well-formed Unicode (no lone surrogates)";
  return undefined;
}

/**
 * The path of the first string (or key) PostgreSQL cannot store, and why, if any.
 * Walks with an explicit stack: arguments may nest deeper than the call stack allows.
 */
function unstorablePath(value: unknown): { path: string; why: string } | undefined {
  const stack: [unknown, string][] = [[value, ""]];
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (typeof v === "string") {
      const why = unstorable(v);
      if (why) return { path, why };
      continue;
    }
    if (typeof v !== "object" || v === null) continue;
    const entries = Object.entries(v);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [k, child] = entries[i];
      const why = unstorable(k);
      if (why) return { path: path || "arguments", why };
      stack.push([child, path ? `${path}.${k}` : k]);
    }
  }
  return undefined;
}

/** The JSON Schema types a value could match. */
function typesOf(v: unknown): string[] {
  if (v === null) return ["null"];
  if (Array.isArray(v)) return ["array"];
  return typeof v === "number" ? ["number", "integer"] : [typeof v];
}

/**
 * Where and why a value was refused. A string field whose grammar a bare "Expected string
 * to match '^…$'" would not explain carries its own `errorMessage` (e.g. SlugField). For a
 * union (a nullable field, string-or-object) the one branch made for this kind of value
 * says why better than "Expected union value".
 */
function explain(e: ValueError): { path: string; message: string } {
  const own = (e.schema as { errorMessage?: unknown }).errorMessage;
  if (typeof own === "string" && typeof e.value === "string") return { path: e.path, message: own };
  const branches = (e.schema as { anyOf?: { type?: unknown }[] }).anyOf ?? [];
  const types = typesOf(e.value);
  const matching = branches.flatMap((b, i) => (types.includes(String(b.type)) ? [i] : []));
  // several branches of this type (string literals): none speaks for the union
  const first = matching.length === 1 ? e.errors[matching[0]!]?.First() : undefined;
  return first ? explain(first) : { path: e.path, message: e.message };
}

/** Throws VALIDATION_ERROR naming the first bad argument. */
export function validateArgs(op: Operation, args: unknown): void {
  const check = checkerFor(op.args);
  const bad = unstorablePath(args);
  if (bad) throw new DomainError("VALIDATION_ERROR", `Invalid argument "${bad.path || "arguments"}" for ${op.name}: ${bad.why}`, { path: bad.path });
  if (check.Check(args)) return;
  if (typeof args === "object" && args !== null && !Array.isArray(args)) checkArgumentNames(op.name, op.args as TObject, args as Record<string, unknown>);
  const first = check.Errors(args).First();
  const e = first ? explain(first) : { path: "", message: "invalid value" };
  const where = argPath(e.path);
  throw new DomainError("VALIDATION_ERROR", `Invalid argument "${where}" for ${op.name}: ${e.message}`, { path: where });
}

/** Throws FORBIDDEN_SCOPE naming the scope when the principal lacks it. */
export function checkScope(op: Operation, principal: Principal): void {
  if (!grants(principal.scopes, op.scope)) {
    throw new DomainError("FORBIDDEN_SCOPE", `${op.name} requires scope "${op.scope}", which this key lacks`, { requiredScope: op.scope });
  }
}

/** Scope first (no side effect without it), then arguments, then the handler. */
export async function invoke(op: Operation, ctx: OpContext, args: unknown): Promise<unknown> {
  checkScope(op, ctx.principal);
  validateArgs(op, args);
  try {
    const out = await op.run(ctx, args as never);
    if (op.scope.endsWith(":write")) await ctx.announceChange?.();
    return out;
  } catch (err) {
    // text the database cannot hold is still the caller's input, not our fault
    const state = sqlState(err);
    if (state === "22021" || state === "22P05") throw new DomainError("VALIDATION_ERROR", `${op.name}: the arguments contain text the database cannot store`);
    throw err;
  }
}
