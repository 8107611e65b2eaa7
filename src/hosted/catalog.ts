/**
 * The catalog of a hosted server in TOOLS mode: one MCP tool per ACTION attachment (and
 * its companion `list_<property>s` tools), the server's resources and prompts, and each
 * TRIGGER's events resource. Arguments are checked against the published
 * schema before the sandbox is touched; tool failures are isError results.
 */
import type { CancelSignal } from "../mcp/cancellation.ts";
import type { CallContext, CallToolResult, Catalog, McpPrompt, McpResource } from "../mcp/catalog.ts";
import { askClient } from "../mcp/clientAsk.ts";
import { RoundEnded } from "../mcp/inputRound.ts";
import { RpcCode, RpcError } from "../mcp/jsonrpc.ts";
import type { Config } from "../config.ts";
import type { Db } from "../database/index.ts";
import { egressRules } from "../platform/limits.ts";
import { renderContent } from "../platform/prompt.ts";
import type { SandboxBudget } from "../platform/sandboxBudget.ts";
import type { SecretBox } from "../platform/secretBox.ts";
import { lifetimeText, type SetupLinks } from "../platform/setupLink.ts";
import type { SandboxPool } from "../sandbox/pool.ts";
import { loggedOutput, type ShapedResult } from "../sandbox/output.ts";
import type { CallOutcome, LogLine } from "../sandbox/protocol.ts";
import { callTool } from "../sandbox/toolCall.ts";
import { admitCall, type SecretSource } from "./callAdmission.ts";
import { completeArgument, serverCompletes, type RunBacking } from "./completion.ts";
import type { ServerDefinition } from "./definition.ts";
import { publishCompanion, publishTool, publishTrigger, type PublishedTool, type PublishedTrigger } from "./publishedTool.ts";
import { recentEvents } from "../platform/trigger.ts";
import { readResource } from "./resourceRead.ts";
import { ResourceIndex } from "./resourceIndex.ts";

/** What a finished call leaves for the call log. */
export interface CallRecord {
  orgId: string;
  serverId: string;
  toolId: string | null;
  toolName: string;
  endUserId: string | null;
  status: "ok" | "error" | "cancelled";
  durationMs: number;
  input: unknown;
  output: unknown;
  error: string | null;
  logs: LogLine[];
  outputPolicy: "retain" | "omit" | "obfuscate";
  /** Values of the secrets the call could read: redacted from everything the log keeps of it. */
  secrets?: string[];
}

/** Process-wide parts a hosted catalog runs with. */
export interface HostedDeps {
  db: Db;
  box: SecretBox;
  sandbox: SandboxPool;
  config: Pick<Config, "toolTimeoutMs" | "toolTimeoutMaxMs">;
  /** The org's sandbox runs per minute: every run spends one. */
  budget: SandboxBudget;
  onCall(record: CallRecord): void;
  /** Signs the end-user setup links of missing-secret errors (issue 17.7); absent: the errors carry none. */
  setupLinks?: SetupLinks;
}

/** A definition published: what the lists show, computed once per definition. */
export interface Published {
  tools: PublishedTool[];
  byName: Map<string, PublishedTool>;
  resources: McpResource[];
  /** Which resource serves a URI; its templateListing is what resources/templates/list shows. */
  index: ResourceIndex;
  /** The tools behind resources and completions, by tool id. */
  backing: Map<string, PublishedTool>;
  /** TRIGGER attachments, by attachment id: what their webhooks run. */
  triggers: Map<string, PublishedTrigger>;
  /** Whether anything can complete (the `completions` capability). */
  completes: boolean;
  prompts: McpPrompt[];
}

/** Publishes a definition's tools, resources and prompts. */
export function publish(def: ServerDefinition): Published {
  // companions after the attachments: a real tool already won any name they share (definition.ts)
  const tools = [...def.tools.map(publishTool), ...def.companions.map(publishCompanion)];
  const triggers = def.triggers.map(publishTrigger);
  const index = new ResourceIndex(def.resources, triggers);
  return {
    tools,
    byName: new Map(tools.map((t) => [t.name, t])),
    resources: index.listing,
    index,
    backing: new Map([...def.backing].map(([id, entry]) => [id, publishTool(entry)])),
    triggers: new Map(triggers.map((t) => [t.attachmentId, t])),
    completes: serverCompletes(def, index),
    prompts: def.prompts.map((p) => ({
      name: p.slug,
      title: p.name,
      ...(p.description ? { description: p.description } : {}),
      // where completions come from stays on the server
      arguments: p.arguments.map(({ values: _v, complete: _c, ...shown }) => shown),
    })),
  };
}

/** Console levels as MCP log levels. */
export const LOG_LEVEL_OF: Record<LogLine["level"], string> = { debug: "debug", info: "info", log: "info", warn: "warning", error: "error" };

function toolError(message: string): CallToolResult {
  return { content: [{ type: "text", text: message }], isError: true };
}

/**
 * What the call log keeps of how a call ended (`signal`: the call's): a result the client got as an
 * error is an error, whatever returned it; a round of the 2026-07-28 lane stopped to ask its client says so.
 */
export function recordedOutcome(outcome: CallOutcome, shaped: ShapedResult, signal: CancelSignal): Pick<CallRecord, "status" | "durationMs" | "output" | "error" | "logs"> {
  const failed = !outcome.ok || shaped.result.isError === true;
  const text = () => shaped.result.content.flatMap((c) => (c.type === "text" ? [String(c.text)] : [])).join("\n") || "The tool returned an error result";
  const roundEnded = signal.aborted && signal.reason instanceof RoundEnded ? signal.reason.message : undefined;
  return {
    status: signal.aborted ? "cancelled" : failed ? "error" : "ok",
    durationMs: outcome.durationMs,
    output: loggedOutput(outcome, shaped),
    error: roundEnded ?? outcome.error?.message ?? (failed ? text() : null),
    logs: outcome.logs,
  };
}

/** A TOOLS-mode catalog, which can also hand back a call's raw output (for CODE mode's `tools.*`). */
export interface HostedCatalog extends Catalog {
  /**
   * Runs a tool as callTool does; `output` is what the tool returned, when it succeeded,
   * and `rich` says the result is the tool's own, built with the mcp.* helpers.
   */
  callWithOutput(ctx: CallContext, name: string, args: Record<string, unknown>): Promise<{ result: CallToolResult; rich?: boolean; output?: unknown; secrets?: string[] }>;
  /** Runs a trigger's tool on one webhook event (logged as `trigger:<name>`); `output` when it succeeded. */
  runTrigger(ctx: CallContext, trigger: PublishedTrigger, input: Record<string, unknown>): Promise<{ result: CallToolResult; output?: unknown }>;
}

/** A trigger's events resource: its recent events, newest first, as one JSON document. */
async function triggerContents(db: Db, t: PublishedTrigger) {
  const events = await recentEvents(db, t.attachmentId);
  return { contents: [{ uri: t.uri, mimeType: "application/json", text: JSON.stringify({ events }) }] };
}

/** Where a server's calls read secrets; on an end user's server, with the setup page's links under `baseUrl`. */
function secretSource(def: ServerDefinition, deps: HostedDeps, baseUrl: string | undefined): SecretSource {
  const { endUserId, orgId, id: serverId } = def.server;
  const links = deps.setupLinks;
  if (!endUserId || !links || !baseUrl) return deps;
  const lifetime = lifetimeText(links.ttlMs);
  return { ...deps, setupLink: (names) => ({ url: `${baseUrl}/setup/${links.sign({ orgId, endUserId, serverId, names })}`, lifetime }) };
}

/** The catalog of one hosted server, over its current definition; `baseUrl` is where its links point (setup pages). */
export function hostedCatalog(def: ServerDefinition, published: Published, deps: HostedDeps, baseUrl?: string): HostedCatalog {
  const server = { id: def.server.id, slug: def.server.slug, name: def.server.name };
  const secretsFrom = secretSource(def, deps, baseUrl);
  /** A published tool's call (an attachment, or a tool behind a resource or completion, logged as `name`). */
  const run = async (ctx: CallContext, t: PublishedTool, args: Record<string, unknown>, name: string) => {
    const record = (r: Pick<CallRecord, "status" | "durationMs" | "input" | "output" | "error" | "logs" | "secrets">) =>
      deps.onCall({ orgId: def.server.orgId, serverId: def.server.id, toolId: t.entry.tool.id, toolName: name, endUserId: def.server.endUserId, outputPolicy: t.entry.tool.outputPolicy, ...r });
    const refuse = (message: string, input: unknown) => {
      record({ status: "error", durationMs: 0, input, output: undefined, error: message, logs: [] });
      return { result: toolError(message) };
    };
    const admission = await admitCall(secretsFrom, { orgId: def.server.orgId, endUserId: def.server.endUserId }, t, args);
    if (!admission.admitted) return refuse(admission.refusal.message, admission.input);
    const { input, secrets, secretValues } = admission;
    // no budget set (the default): no await, no rate-store trip on the hot path
    const overBudget = def.orgLimits?.sandbox?.runsPerMinute ? await deps.budget.take(def.server.orgId, def.orgLimits) : undefined;
    if (overBudget) return refuse(overBudget.message, input);
    // console lines reach the client as the tool writes them (redacted in the sandbox), not after it returns
    const log = ctx.log;
    const shaped = await callTool(deps.sandbox, t.entry.tool, {
      input,
      context: { requestId: ctx.requestId, endUserId: def.server.endUserId, server, secrets },
      egress: egressRules(def.orgLimits),
      defaultTimeoutMs: deps.config.toolTimeoutMs,
      maxTimeoutMs: deps.config.toolTimeoutMaxMs,
      signal: ctx.signal,
      onProgress: ctx.progress,
      onLog: log && ((line) => log(LOG_LEVEL_OF[line.level] ?? "info", { tool: name, message: line.message })),
      onAsk: (method, params, signal) => askClient(ctx, method, params, signal),
    });
    const { outcome, result, rich } = shaped;
    record({ ...recordedOutcome(outcome, shaped, ctx.signal), input, secrets: secretValues });
    return { result, rich, output: outcome.ok ? outcome.output : undefined, secrets: secretValues };
  };
  const callWithOutput: HostedCatalog["callWithOutput"] = async (ctx, name, args) => {
    const t = published.byName.get(name);
    if (!t) throw new RpcError(RpcCode.InvalidParams, `Unknown tool: "${name}"; tools/list shows this server's tools`);
    return run(ctx, t, args, name);
  };
  const backing = (ctx: CallContext): RunBacking => (toolId, input, name) => run(ctx, published.backing.get(toolId)!, input, name);
  return {
    callWithOutput,
    runTrigger: (ctx, t, input) => run(ctx, t.tool, input, `trigger:${t.tool.name}`),
    listTools: async () => published.tools.map((t) => t.listing),
    callTool: async (ctx, name, args) => (await callWithOutput(ctx, name, args)).result,
    listResources: async () => published.resources,
    listResourceTemplates: async () => published.index.templateListing,
    readResource: async (ctx, uri) => {
      const trigger = published.index.trigger(uri);
      return trigger ? triggerContents(deps.db, trigger) : readResource(published.index, backing(ctx), uri);
    },
    listPrompts: async () => published.prompts,
    getPrompt: async (_ctx, name, args) => {
      const p = def.prompts.find((x) => x.slug === name);
      if (!p) throw new RpcError(RpcCode.InvalidParams, `Unknown prompt: "${name}"; prompts/list shows this server's prompts`);
      for (const a of p.arguments) {
        if (a.required && (args[a.name] === undefined || args[a.name] === "")) {
          throw new RpcError(RpcCode.InvalidParams, `Invalid params: prompt "${name}" requires argument "${a.name}"`);
        }
      }
      for (const [k, v] of Object.entries(args)) {
        if (typeof v !== "string") throw new RpcError(RpcCode.InvalidParams, `Invalid params: prompt argument "${k}" must be a string`);
      }
      return {
        ...(p.description ? { description: p.description } : {}),
        messages: p.messages.map((m) => ({
          role: m.role === "assistant" ? "assistant" : "user",
          content: renderContent(m.content, args),
        })),
      };
    },
    ...(published.completes
      ? { complete: (ctx: CallContext, ref, argument, value, context) => completeArgument(def, published.index, backing(ctx), ref, argument, value, context) }
      : {}),
  };
}
