/**
 * completion/complete on a hosted server (issue 14, point 5): the values a prompt
 * argument or a resource template's variable declares, prefix-filtered, or what its
 * completion tool returns when asked `{argument, value, context}`.
 * A tool argument's `x-dzx-options` (issue 17.5) is not used here: MCP completion refs
 * are `ref/prompt` and `ref/resource` only, so its values reach an agent through the
 * companion `list_<property>s` tool instead (src/hosted/companion.ts).
 */
import type { CallToolResult, CompletionContext, CompletionRef } from "../mcp/catalog.ts";
import { RpcCode, RpcError } from "../mcp/jsonrpc.ts";
import type { CompletionSource } from "../../db/schema.ts";
import { completes, matchingValues } from "../platform/completionSource.ts";
import type { ServerDefinition } from "./definition.ts";
import { textOf } from "./resourceContents.ts";
import type { ResourceIndex } from "./resourceIndex.ts";

/**
 * Runs a backing tool as a hosted call would; the name is what the call log records.
 * `rich`: the result is the tool's own blocks (the sandbox's mcp.* helpers), not a plain value.
 */
export type RunBacking = (toolId: string, input: Record<string, unknown>, name: string) => Promise<{ result: CallToolResult; output?: unknown; rich?: boolean }>;

/** An argument completion/complete may ask about, and where its values come from. */
interface Target {
  /** How errors name it, e.g. `prompt "plan" argument "city"`. */
  label: string;
  /** What the call log names a completion tool's call. */
  callName: string;
  source: CompletionSource | undefined;
}

function target(def: ServerDefinition, index: ResourceIndex, ref: CompletionRef, argument: string): Target {
  if (ref.type === "ref/prompt") {
    const p = def.prompts.find((x) => x.slug === ref.name);
    if (!p) throw new RpcError(RpcCode.InvalidParams, `Unknown prompt: "${String(ref.name)}"; prompts/list shows this server's prompts`);
    const a = p.arguments.find((x) => x.name === argument);
    if (!a) throw new RpcError(RpcCode.InvalidParams, `Prompt "${p.slug}" has no argument "${argument}"`);
    return { label: `prompt "${p.slug}" argument "${argument}"`, callName: `complete:${p.slug}.${argument}`, source: a };
  }
  if (ref.type === "ref/resource") {
    const t = typeof ref.uri === "string" ? index.template(ref.uri) : undefined;
    if (!t) throw new RpcError(RpcCode.InvalidParams, `Unknown resource template: "${String(ref.uri)}"; resources/templates/list shows this server's templates`);
    if (!t.variables.includes(argument)) throw new RpcError(RpcCode.InvalidParams, `Resource template "${t.resource.uri}" has no variable "${argument}"`);
    return { label: `template "${t.resource.uri}" variable "${argument}"`, callName: `complete:${t.resource.slug}.${argument}`, source: t.resource.variables[argument] };
  }
  throw new RpcError(RpcCode.InvalidParams, `Invalid params: ref.type must be "ref/prompt" or "ref/resource"`);
}

/** Whether any prompt argument or template variable of the server can offer values (the `completions` capability). */
export function serverCompletes(def: ServerDefinition, index: ResourceIndex): boolean {
  const live = (s: CompletionSource | undefined) => completes(s) && (!s!.complete || def.backing.has(s!.complete.toolId));
  return def.prompts.some((p) => p.arguments.some(live)) || index.templateResources.some((r) => Object.values(r.variables).some(live));
}

/** The candidate values for one argument (the engine caps them at 100 and reports total and hasMore). */
export async function completeArgument(
  def: ServerDefinition,
  index: ResourceIndex,
  run: RunBacking,
  ref: CompletionRef,
  argument: string,
  value: string,
  context: CompletionContext | undefined,
): Promise<string[]> {
  const t = target(def, index, ref, argument);
  if (t.source?.values) return matchingValues(t.source.values, value);
  const toolId = t.source?.complete?.toolId;
  // a completion tool deleted since: nothing to offer, as with no source at all
  if (!toolId || !def.backing.has(toolId)) return [];
  const { result, output } = await run(toolId, { argument, value, context: { arguments: context?.arguments ?? {} } }, t.callName);
  if (result.isError) {
    throw new RpcError(RpcCode.InternalError, `The completion tool of ${t.label} failed: ${textOf(result)}`);
  }
  if (!Array.isArray(output) || output.some((v) => typeof v !== "string")) {
    throw new RpcError(RpcCode.InternalError, `The completion tool of ${t.label} must return an array of strings`);
  }
  return output as string[];
}
