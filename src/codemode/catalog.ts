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
import { DomainError } from "../platform/domainError.ts";
import type { HostedCatalog, HostedDeps, Published } from "../hosted/catalog.ts";
import type { ServerDefinition } from "../hosted/definition.ts";
import { declarations } from "./declarations.ts";
import { scriptRunner } from "./script.ts";

const SEARCH: McpTool = {
  name: "search",
  title: "Search tools",
  description: "Find this server's tools by words; returns their names and one-line descriptions. Then read_api for their types, then execute a script that calls them.",
  inputSchema: {
    type: "object",
    properties: {
      query: { type: "string", description: "Words to look for in tool names and descriptions; empty lists every tool" },
      limit: { type: "integer", minimum: 1, maximum: 100, description: `At most this many tools, best first (default ${10})` },
    },
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
    "Run JavaScript in the sandbox as the body of an async function: `await tools.name(input)` calls a tool (read_api gives the types), `return` answers. " +
    "Return a tool's MCP result, or mcp.text/image/audio/resource/resourceLink/result blocks, to answer with content blocks. console.log lines come back as logs.",
  inputSchema: { type: "object", properties: { code: { type: "string", minLength: 1, maxLength: 100_000 } }, required: ["code"], additionalProperties: false },
};

/**
 * search and read_api answer with text only: what the model reads is all an agent loads,
 * and a structuredContent copy of the same answer would double it (bench/context.ts).
 */
function textResult(text: string): CallToolResult {
  return { content: [{ type: "text", text }] };
}

/** How many tools search shows unless asked for more. */
const SEARCH_LIMIT = 10;

/**
 * How well a tool matches the query's words: a word that is a whole part of the tool's
 * name counts most, one inside the name next, one starting a word of its title or
 * description least ("send" finds "sending", not "resend").
 */
function matchScore(t: { name: string; listing: McpTool }, words: string[]): number {
  const name = t.name.toLowerCase();
  const parts = new Set(name.split(/[^a-z0-9]+/));
  const prose = ` ${`${t.listing.title ?? ""} ${t.listing.description ?? ""}`.toLowerCase().replace(/[^a-z0-9]+/g, " ")}`;
  let score = 0;
  for (const w of words) {
    if (parts.has(w)) score += 4;
    else if (name.includes(w)) score += 2;
    else if (prose.includes(` ${w}`)) score += 1;
  }
  return score;
}

function oneLine(s: string | undefined): string {
  return (s ?? "").split("\n")[0].slice(0, 200);
}

/** The catalog of a CODE-mode server; `tools` is its TOOLS-mode catalog, which runs each inner call. */
export function codeCatalog(def: ServerDefinition, published: Published, deps: HostedDeps, tools: HostedCatalog): Catalog {
  const names = published.tools.map((t) => t.name);
  const runScript = scriptRunner(def, published, deps, tools);
  return {
    ...tools,
    listTools: async () => [SEARCH, READ_API, EXECUTE],
    callTool: async (ctx: CallContext, name, args) => {
      if (name === "search") {
        const words = String(args.query ?? "").toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
        const limit = typeof args.limit === "number" ? args.limit : SEARCH_LIMIT;
        const scored = published.tools
          .map((t) => ({ t, score: words.length ? matchScore(t, words) : 1 }))
          .filter((x) => x.score > 0)
          .sort((a, b) => b.score - a.score);
        const shown = scored.slice(0, limit).map(({ t }) => `${t.name}: ${oneLine(t.listing.description)}`);
        const more = scored.length > limit ? `\n(${scored.length - limit} more match: search with a higher limit or more words)` : "";
        return textResult(shown.length ? shown.join("\n") + more : "No tool matches those words.");
      }
      if (name === "read_api") {
        const wanted = Array.isArray(args.tools) ? args.tools.map(String) : names;
        const unknown = wanted.filter((n) => !names.includes(n));
        if (unknown.length) return { content: [{ type: "text", text: `Unknown tools: ${unknown.join(", ")}. search lists this server's tools.` }], isError: true };
        return textResult(declarations(published.tools.filter((t) => wanted.includes(t.name)).map((t) => t.listing)));
      }
      if (name === "execute") {
        const code = args.code;
        if (typeof code !== "string" || !code.trim()) return { content: [{ type: "text", text: `execute needs "code": the body of an async function` }], isError: true };
        try {
          return await runScript(ctx, code);
        } catch (err) {
          // the sandbox budget spent: the caller's answer, as any refused call's
          if (err instanceof DomainError) return { content: [{ type: "text", text: err.message }], isError: true };
          throw err;
        }
      }
      throw new RpcError(RpcCode.InvalidParams, `Unknown tool: "${name}"; a CODE-mode server has search, read_api and execute`);
    },
  };
}
