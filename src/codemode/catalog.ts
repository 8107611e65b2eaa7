/**
 * CODE mode (SPEC "Hosted MCP servers"): instead of one MCP tool per attachment a
 * server exposes exactly three — `search` (find tools by words), `read_api`
 * (TypeScript declarations generated from their schemas) and `execute` (a script
 * run in the sandbox, where `await tools.<name>(input)` calls the server's tools,
 * each through the same path as a TOOLS-mode call: validation, partials, secrets,
 * its own sandbox call and call-log entry).
 */
import type { CallContext, CallToolResult, Catalog, McpTool } from "../mcp/catalog.ts";
import { RpcCode, RpcError } from "../mcp/jsonrpc.ts";
import { egressRules } from "../platform/limits.ts";
import { shapeResult } from "../sandbox/output.ts";
import { recordedOutcome, type HostedCatalog, type HostedDeps, type Published } from "../hosted/catalog.ts";
import { askClient } from "../mcp/clientAsk.ts";
import type { ServerDefinition } from "../hosted/definition.ts";
import type { CallOutcome } from "../sandbox/protocol.ts";
import { ExecuteGate } from "./executeGate.ts";
import { declarations } from "./declarations.ts";

const SEARCH: McpTool = {
  name: "search",
  title: "Search tools",
  description: "Find this server's tools by words; returns their names and one-line descriptions. Then read_api for their types, then execute a script that calls them.",
  inputSchema: {
    type: "object",
    properties: { query: { type: "string", description: "Words to look for in tool names and descriptions; empty lists every tool" }, limit: { type: "integer", minimum: 1, maximum: 100 } },
    additionalProperties: false,
  },
};
const READ_API: McpTool = {
  name: "read_api",
  title: "Read tool types",
  description: "TypeScript declarations of the named tools (all when omitted), as methods of the `tools` object available to execute.",
  inputSchema: { type: "object", properties: { tools: { type: "array", items: { type: "string" }, maxItems: 100 } }, additionalProperties: false },
};
const EXECUTE: McpTool = {
  name: "execute",
  title: "Run a script",
  description:
    "Run JavaScript in the sandbox as the body of an async function: call tools with `await tools.name(input)` (or tools[\"name\"](input)) and `return` the result (a tool built with the mcp.* helpers answers with its MCP result, {content, structuredContent?, isError?}; return it, or blocks made with mcp.text/image/audio/resource/resourceLink/result, to answer with content blocks). console.log output is returned in the logs.",
  inputSchema: { type: "object", properties: { code: { type: "string", minLength: 1, maxLength: 100_000 } }, required: ["code"], additionalProperties: false },
};

function textResult(value: Record<string, unknown>, text: string): CallToolResult {
  return { content: [{ type: "text", text }], structuredContent: value };
}

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

function oneLine(s: string | undefined): string {
  return (s ?? "").split("\n")[0].slice(0, 200);
}

/** The catalog of a CODE-mode server; `tools` is its TOOLS-mode catalog, which runs each inner call. */
export function codeCatalog(def: ServerDefinition, published: Published, deps: HostedDeps, tools: HostedCatalog): Catalog {
  const names = published.tools.map((t) => t.name);
  // a script's output may carry any of its tools' outputs: log it as the most private of them allows
  const policies = new Set(published.tools.map((t) => t.entry.tool.outputPolicy));
  const strictestPolicy = policies.has("omit") ? "omit" : policies.has("obfuscate") ? "obfuscate" : "retain";
  return {
    ...tools,
    listTools: async () => [SEARCH, READ_API, EXECUTE],
    callTool: async (ctx: CallContext, name, args) => {
      const seenSecrets = new Set<string>();
      const runScript = (code: string) =>
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
      if (name === "search") {
        const words = String(args.query ?? "").toLowerCase().split(/\W+/).filter(Boolean);
        const limit = typeof args.limit === "number" ? args.limit : 20;
        const scored = published.tools
          .map((t) => {
            const hay = `${t.name} ${t.listing.title ?? ""} ${t.listing.description ?? ""}`.toLowerCase();
            return { t, score: words.length ? words.filter((w) => hay.includes(w)).length : 1 };
          })
          .filter((x) => x.score > 0)
          .sort((a, b) => b.score - a.score)
          .slice(0, limit)
          .map(({ t }) => ({ name: t.name, description: oneLine(t.listing.description) }));
        return textResult({ tools: scored }, scored.map((t) => `${t.name}: ${t.description}`).join("\n") || "No tool matches those words.");
      }
      if (name === "read_api") {
        const wanted = Array.isArray(args.tools) ? args.tools.map(String) : names;
        const unknown = wanted.filter((n) => !names.includes(n));
        if (unknown.length) return { content: [{ type: "text", text: `Unknown tools: ${unknown.join(", ")}. search lists this server's tools.` }], isError: true };
        const text = declarations(published.tools.filter((t) => wanted.includes(t.name)).map((t) => t.listing));
        return textResult({ declarations: text }, text);
      }
      if (name === "execute") {
        const code = args.code;
        if (typeof code !== "string" || !code.trim()) return { content: [{ type: "text", text: `execute needs "code": the body of an async function` }], isError: true };
        const gate = ExecuteGate.of(deps.sandbox);
        let outcome: CallOutcome;
        try {
          outcome = await gate.run(() => runScript(code), ctx.signal);
        } catch (err) {
          return { content: [{ type: "text", text: (err as Error).message }], isError: true };
        }
        const shaped = shapeResult(outcome, null, "script");
        deps.onCall({
          orgId: def.server.orgId,
          serverId: def.server.id,
          toolId: null,
          toolName: "execute",
          endUserId: def.server.endUserId,
          ...recordedOutcome(outcome, shaped, ctx.signal),
          input: { code },
          outputPolicy: strictestPolicy,
          secrets: [...seenSecrets],
        });
        const { result } = shaped;
        return outcome.logs.length ? { ...result, content: [...result.content, { type: "text", text: `logs:\n${outcome.logs.map((l) => `[${l.level}] ${l.message}`).join("\n")}` }] } : result;
      }
      throw new RpcError(RpcCode.InvalidParams, `Unknown tool: "${name}"; a CODE-mode server has search, read_api and execute`);
    },
  };
}
