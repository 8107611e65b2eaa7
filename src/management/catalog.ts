/**
 * The management MCP server's catalog: one MCP tool per operation, run for the
 * calling principal. Operation failures are isError results with {error:{code,message}}.
 */
import type { Catalog, CallToolResult, McpTool } from "../mcp/catalog.ts";
import { RpcCode, RpcError } from "../mcp/jsonrpc.ts";
import { DomainError } from "../platform/domainError.ts";
import { invoke } from "./invoke.ts";
import type { OpContext } from "./operation.ts";
import { operations, operationsByName } from "./table.ts";

// TypeBox schemas carry symbol keys; a JSON round trip leaves the plain JSON Schema.
const tools: McpTool[] = operations.map((op) => ({
  name: op.name,
  description: `${op.description} Requires scope ${op.scope}.`,
  inputSchema: JSON.parse(JSON.stringify(op.args)),
}));

/** The result shape of a failed operation. */
export function errorResult(error: { code: string; message: string; details?: unknown }): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify({ error }) }], structuredContent: { error }, isError: true };
}

/** A catalog bound to one caller. */
export function managementCatalog(ctx: OpContext, onInternalError: (err: unknown) => void): Catalog {
  return {
    listTools: async () => tools,
    callTool: async (call, name, args) => {
      const op = operationsByName.get(name);
      if (!op) throw new RpcError(RpcCode.InvalidParams, `Unknown tool: "${name}"; tools/list shows the available operations`);
      try {
        // a getter: the engine makes a request's signal only when something reads it
        const opCtx: OpContext = { ...ctx, get signal() { return call.signal; } };
        const out = (await invoke(op, opCtx, args)) as Record<string, unknown>;
        return { content: [{ type: "text", text: JSON.stringify(out) }], structuredContent: out };
      } catch (err) {
        if (err instanceof DomainError) return errorResult(err.toJSON());
        onInternalError(err);
        return errorResult({ code: "INTERNAL", message: `Internal error (request ${call.requestId}); the operation was not completed` });
      }
    },
  };
}
