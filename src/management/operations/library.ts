/**
 * Operations on the org's library: tools, resources and prompts.
 */
import * as partial from "../../platform/partial.ts";
import * as prompt from "../../platform/prompt.ts";
import * as resource from "../../platform/resource.ts";
import * as tool from "../../platform/tool.ts";
import { Type } from "@sinclair/typebox";
import { egressRules } from "../../platform/limits.ts";
import { DomainError, invalid } from "../../platform/domainError.ts";
import { admitCall, type Refusal } from "../../hosted/callAdmission.ts";
import { unattached } from "../../hosted/definition.ts";
import { publishTool } from "../../hosted/publishedTool.ts";
import { callTool, checkInSandbox } from "../../sandbox/toolCall.ts";
import { operation, Ref, type OpContext } from "../operation.ts";
import { assetOperations } from "./asset.ts";

/** The sandbox loads every new or changed source, so what cannot run is refused at write time. */
const verifier = (ctx: OpContext) => (source: string, language: "js" | "ts") => checkInSandbox(ctx.sandbox, ctx.principal.orgId, source, language);

/** dwizi.tools.* */
export const toolOperations = assetOperations({
  singular: "tool",
  plural: "tools",
  readScope: "tools:read",
  writeScope: "tools:write",
  input: tool.ToolInput,
  patch: tool.ToolPatch,
  view: tool.toolView,
  list: tool.listTools,
  get: tool.getTool,
  create: (ctx, input) => tool.createTool(ctx.db, ctx.principal, input, verifier(ctx)),
  update: (ctx, ref, patch) => tool.updateTool(ctx.db, ctx.principal, ref, patch, verifier(ctx)),
  remove: (ctx, ref) => tool.deleteTool(ctx.db, ctx.principal, ref),
});

/** A refused test call as the operation's error: the hosted call's message, with a code to act on. */
function refusedTest(refusal: Refusal, endUserId: string | null): DomainError {
  if (refusal.kind === "arguments") return invalid(refusal.message);
  return new DomainError("MISSING_SECRET", refusal.message, { secret: refusal.secret, ...(endUserId ? { endUserId } : {}) });
}

/**
 * dwizi.tools.test: the first way to execute a tool. It is admitted as a hosted call is (arguments
 * checked against the tool's schema, secrets resolved, as the end user when one is named), so a
 * test passes only what a server exposing the tool would run.
 */
export const toolTestOperation = operation({
  name: "dwizi.tools.test",
  scope: "tools:write",
  description:
    "Run a tool once in the sandbox with the given input: {id|slug, input, endUserId?}. The input is checked against the tool's input schema and its secrets resolved (the end user's value first, then the org's) as a hosted call does. Returns output, MCP content, logs and duration.",
  args: Type.Composite([
    Ref,
    Type.Object({
      input: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      endUserId: Type.Optional(Type.String({ minLength: 1, description: "Run as this end user: their secrets first, then the org's" })),
    }),
  ]),
  rest: { method: "POST", path: "/tools/:id/test" },
  run: async (ctx, args) => {
    const t = await tool.getTool(ctx.db, ctx.principal.orgId, args);
    const endUserId = args.endUserId ?? null;
    const admission = await admitCall(ctx, { orgId: ctx.principal.orgId, endUserId }, publishTool(unattached(t, "")), args.input ?? {});
    if (!admission.admitted) throw refusedTest(admission.refusal, endUserId);
    const { outcome, result } = await callTool(ctx.sandbox, t, {
      input: admission.input,
      context: { requestId: crypto.randomUUID(), endUserId, server: null, secrets: admission.secrets },
      egress: egressRules(ctx.principal.orgLimits),
      defaultTimeoutMs: ctx.config.toolTimeoutMs,
      maxTimeoutMs: ctx.config.toolTimeoutMaxMs,
      signal: ctx.signal,
    });
    return {
      output: outcome.ok ? (outcome.output ?? null) : null,
      content: result.content,
      ...(result.structuredContent ? { structuredContent: result.structuredContent } : {}),
      isError: Boolean(result.isError),
      ...(outcome.error ? { error: outcome.error } : {}),
      logs: outcome.logs,
      durationMs: outcome.durationMs,
    };
  },
});

/** dwizi.resources.* */
export const resourceOperations = assetOperations({
  singular: "resource",
  plural: "resources",
  readScope: "resources:read",
  writeScope: "resources:write",
  input: resource.ResourceInput,
  patch: resource.ResourcePatch,
  view: resource.resourceView,
  list: resource.listResources,
  get: resource.getResource,
  create: (ctx, input) => resource.createResource(ctx.db, ctx.principal, input),
  update: (ctx, ref, patch) => resource.updateResource(ctx.db, ctx.principal, ref, patch),
  remove: (ctx, ref) => resource.deleteResource(ctx.db, ctx.principal, ref),
});

/** dwizi.prompts.* */
export const promptOperations = assetOperations({
  singular: "prompt",
  plural: "prompts",
  readScope: "prompts:read",
  writeScope: "prompts:write",
  input: prompt.PromptInput,
  patch: prompt.PromptPatch,
  view: prompt.promptView,
  list: prompt.listPrompts,
  get: prompt.getPrompt,
  create: (ctx, input) => prompt.createPrompt(ctx.db, ctx.principal, input),
  update: (ctx, ref, patch) => prompt.updatePrompt(ctx.db, ctx.principal, ref, patch),
  remove: (ctx, ref) => prompt.deletePrompt(ctx.db, ctx.principal, ref),
});

/** dwizi.partials.*: argument presets for server tools (enforced keys hidden and fixed). */
export const partialOperations = assetOperations({
  singular: "partial",
  plural: "partials",
  readScope: "mcp:read",
  writeScope: "mcp:write",
  input: partial.PartialInput,
  patch: partial.PartialPatch,
  view: partial.partialView,
  list: partial.listPartials,
  get: partial.getPartial,
  create: (ctx, input) => partial.createPartial(ctx.db, ctx.principal, input),
  update: (ctx, ref, patch) => partial.updatePartial(ctx.db, ctx.principal, ref, patch),
  remove: (ctx, ref) => partial.deletePartial(ctx.db, ctx.principal, ref),
});
