/**
 * A script run as CODE mode's `execute` runs it: the body of an async function in the
 * sandbox, where `await tools.<name>(input)` calls the server's tools through its
 * TOOLS-mode catalog (validation, partials, secrets, the call log, the sandbox budget).
 * CODE mode's `execute` and the execute-code operation (issue 17.4) both run scripts here.
 */
import type { CallContext, CallToolResult } from "../mcp/catalog.ts";
import { askClient } from "../mcp/clientAsk.ts";
import { egressRules } from "../platform/limits.ts";
import { shapeResult } from "../sandbox/output.ts";
import type { CallOutcome } from "../sandbox/protocol.ts";
import { recordedOutcome, type HostedCatalog, type HostedDeps, type Published } from "../hosted/catalog.ts";
import type { ServerDefinition } from "../hosted/definition.ts";
import { ExecuteGate } from "./executeGate.ts";

/** Runs one script against a server; throws QUOTA_EXCEEDED (a DomainError) when the org's sandbox budget is spent. */
export type ScriptRunner = (ctx: CallContext, code: string) => Promise<CallToolResult>;

/** The script's context for a tool it calls, telling `waiting` while that tool waits on the client (so the script may park meanwhile). */
function askingWatched(ctx: CallContext, waiting: (on: boolean) => void): CallContext {
  const ask = ctx.ask;
  if (!ask) return ctx;
  let asking = 0;
  return Object.create(ctx, {
    ask: {
      value: async (method: string, params: Record<string, unknown>, signal?: AbortSignal) => {
        if (asking++ === 0) waiting(true);
        try {
          return await ask(method, params, signal);
        } finally {
          if (--asking === 0) waiting(false);
        }
      },
    },
  }) as CallContext;
}

/** The script runner of a server; `tools` is its TOOLS-mode catalog, which runs each inner call. */
export function scriptRunner(def: ServerDefinition, published: Published, deps: HostedDeps, tools: HostedCatalog): ScriptRunner {
  const names = published.tools.map((t) => t.name);
  // a script's output may carry any of its tools' outputs: log it as the most private of them allows
  const policies = new Set(published.tools.map((t) => t.entry.tool.outputPolicy));
  const outputPolicy = policies.has("omit") ? "omit" : policies.has("obfuscate") ? "obfuscate" : "retain";
  const logged = { orgId: def.server.orgId, serverId: def.server.id, toolId: null, toolName: "execute", endUserId: def.server.endUserId, outputPolicy } as const;
  return async (ctx, code) => {
    const seenSecrets = new Set<string>();
    const runScript = () =>
      deps.sandbox.run({
        orgId: def.server.orgId,
        codeKey: null,
        code,
        kind: "script",
        toolNames: names,
        context: { requestId: ctx.requestId, endUserId: def.server.endUserId, server: { id: def.server.id, slug: def.server.slug, name: def.server.name }, secrets: {} },
        egress: egressRules(def.orgLimits),
        limits: { timeoutMs: Math.min(deps.config.toolTimeoutMs, deps.config.toolTimeoutMaxMs) },
        signal: ctx.signal,
        onProgress: ctx.progress,
        onAsk: (method, params, signal) => askClient(ctx, method, params, signal),
        onBridge: async (tool, input, waiting) => {
          if (deps.sandbox.size < 2) throw new Error("tools.* needs a second sandbox worker to run the tool while the script waits: set DZX_WORKERS to 2 or more");
          if (typeof input !== "object" || input === null || Array.isArray(input)) throw new Error(`tools.${tool} takes an object of arguments`);
          const { result, rich, output, secrets } = await tools.callWithOutput(askingWatched(ctx, waiting), tool, input as Record<string, unknown>);
          // what the script does with a tool's output (return it, print it) is logged too: keep the tool's secrets out of it
          if (secrets) for (const v of secrets) seenSecrets.add(v);
          // a rich result is what the tool returned, even one it marks isError: the script inspects it, or returns it as is
          if (rich) return { value: result, rich: true };
          if (result.isError) throw new Error(`tools.${tool} failed: ${result.content.map((c) => (c.type === "text" ? (c as { text: string }).text : "")).join("")}`);
          return { value: output ?? null };
        },
      });
    // the script is a run of its own, before any tools.* call it makes
    const overBudget = await deps.budget.take(def.server.orgId, def.orgLimits);
    if (overBudget) {
      deps.onCall({ ...logged, status: "error", durationMs: 0, input: { code }, output: undefined, error: overBudget.message, logs: [] });
      throw overBudget;
    }
    const gate = ExecuteGate.of(deps.sandbox);
    let outcome: CallOutcome;
    try {
      outcome = await gate.run(runScript, ctx.signal);
    } catch (err) {
      return { content: [{ type: "text", text: (err as Error).message }], isError: true };
    }
    const shaped = shapeResult(outcome, null, "script");
    deps.onCall({ ...logged, ...recordedOutcome(outcome, shaped, ctx.signal), input: { code }, secrets: [...seenSecrets] });
    const { result } = shaped;
    return outcome.logs.length ? { ...result, content: [...result.content, { type: "text", text: `logs:\n${outcome.logs.map((l) => `[${l.level}] ${l.message}`).join("\n")}` }] } : result;
  };
}
