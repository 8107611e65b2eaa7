/**
 * The management MCP endpoint, /mcp/dwizi: the operation table served by the shared
 * engine over Streamable HTTP, and over the legacy HTTP+SSE transport (`GET
 * /mcp/dwizi/sse`, `POST /mcp/dwizi/messages?sessionId=`) as hosted servers are.
 * DZX_MANAGEMENT_MCP=off ships it dark (404).
 */
import { Elysia } from "elysia";
import { managementCatalog } from "../management/catalog.ts";
import { canonicalMethod, McpEngine } from "../mcp/engine.ts";
import { RpcCode, type Incoming } from "../mcp/jsonrpc.ts";
import type { Principal } from "../platform/principal.ts";
import type { Services } from "../services.ts";
import { authenticateKey, chargeKey, type GateClosed } from "./keyGate.ts";
import { originGuard } from "./originGuard.ts";
import { opContext } from "./opContext.ts";
import { requestIdOf } from "./requestId.ts";
import { legacySseEndpoint } from "./legacySse.ts";
import { json, rpcErrorResponse } from "./jsonResponse.ts";
import { streamableEndpoint, type EndpointOptions } from "./streamable.ts";

const INSTRUCTIONS =
  "dzx management: create tools (JS/TS source), resources, prompts and secrets, and compose them into hosted MCP servers. " +
  "Each tool is one operation; arguments follow the seed shapes ({tool:{...}}, {slug}, {slug, patch}).";

/** The JSON-RPC answer of a closed gate (401, 429). */
function closed(gate: GateClosed): Response {
  const code = gate.status === 429 ? RpcCode.RateLimited : RpcCode.Unauthorized;
  return rpcErrorResponse(gate.status, { code, message: gate.message, ...(gate.retryAfterMs ? { data: { retryAfterMs: gate.retryAfterMs } } : {}) }, gate.headers);
}

/** A `dwizi.*` operation, as the key's rate counts them; everything else is protocol traffic. */
const isToolCall = (m: Incoming) => m.kind === "request" && canonicalMethod(m.msg.method) === "tools/call";

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
      const gate = await authenticateKey(services, request);
      return gate.ok ? { auth: gate.principal, owner: gate.principal.keyId, headers: {} } : closed(gate);
    },
    // charged once the body is read: only then is it known whether it carries an operation
    meter: async (principal, messages) => {
      const gate = await chargeKey(services, principal, messages?.some(isToolCall) ? "operation" : "protocol");
      return gate.ok ? gate.headers : closed(gate);
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
