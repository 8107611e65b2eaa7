/**
 * The management MCP endpoint, /mcp/dwizi: the operation table served by the shared
 * engine over Streamable HTTP, and over the legacy HTTP+SSE transport (`GET
 * /mcp/dwizi/sse`, `POST /mcp/dwizi/messages?sessionId=`) as hosted servers are.
 * DZX_MANAGEMENT_MCP=off ships it dark (404).
 */
import { Elysia } from "elysia";
import { managementCatalog } from "../management/catalog.ts";
import { McpEngine } from "../mcp/engine.ts";
import { RpcCode } from "../mcp/jsonrpc.ts";
import type { Principal } from "../platform/principal.ts";
import type { Services } from "../services.ts";
import { passKeyGate } from "./keyGate.ts";
import { originGuard } from "./originGuard.ts";
import { opContext } from "./opContext.ts";
import { requestIdOf } from "./requestId.ts";
import { legacySseEndpoint } from "./legacySse.ts";
import { json, rpcErrorResponse, streamableEndpoint, type EndpointOptions } from "./streamable.ts";

const INSTRUCTIONS =
  "dzx management: create tools (JS/TS source), resources, prompts and secrets, and compose them into hosted MCP servers. " +
  "Each tool is one operation; arguments follow the seed shapes ({tool:{...}}, {slug}, {slug, patch}).";

/** Elysia plugin serving /mcp/dwizi. */
export function managementMcp(services: Services) {
  const engine = new McpEngine({ name: "dwizi", title: "dzx management", version: "0.1.0", instructions: INSTRUCTIONS }, services.drain);
  const onInternalError = (err: unknown, request: Request) => services.logger.error("management operation failed", { requestId: requestIdOf(request), err });
  const guard = originGuard(services.config);
  const options: EndpointOptions<Principal> = {
    engine,
    sessions: services.managementSessions,
    limits: services.config,
    requireSession: false, // seed 000's curl examples call tools without initializing
    admit: async (request) => {
      const refused = guard(request);
      if (refused) return refused;
      const gate = await passKeyGate(services, request);
      if (gate.ok) return { auth: gate.principal, owner: gate.principal.keyId, headers: gate.headers };
      const code = gate.status === 429 ? RpcCode.RateLimited : RpcCode.Unauthorized;
      return rpcErrorResponse(gate.status, { code, message: gate.message, ...(gate.retryAfterMs ? { data: { retryAfterMs: gate.retryAfterMs } } : {}) }, gate.headers);
    },
    catalogFor: (principal, request) =>
      managementCatalog(opContext(services, principal, request), (err) => onInternalError(err, request)),
    onInternalError,
  };
  const endpoint = streamableEndpoint(options);
  const legacy = legacySseEndpoint(options);
  const dark = () => json({ error: { code: "NOT_FOUND", message: "Not found" } }, 404);
  const on = services.config.managementMcp;
  return new Elysia({ name: "dzx/management-mcp" })
    .post("/mcp/dwizi", ({ request }) => (on ? endpoint.post(request) : dark()), { parse: "none" })
    .get("/mcp/dwizi", ({ request }) => (on ? endpoint.get(request) : dark()))
    .delete("/mcp/dwizi", ({ request }) => (on ? endpoint.delete(request) : dark()))
    .get("/mcp/dwizi/sse", ({ request }) => (on ? legacy.stream(request) : dark()))
    .post("/mcp/dwizi/messages", ({ request }) => (on ? legacy.message(request) : dark()), { parse: "none" });
}
