/**
 * The edge while dzx drains (SPEC "Operations"): every new request is refused
 * with 503 and Retry-After so clients and load balancers go elsewhere, while the
 * calls already running finish. `/health` still answers (the process is alive)
 * and `/ready` says 503 itself (http/health.ts).
 */
import { RpcCode } from "../mcp/jsonrpc.ts";
import { httpStatusOf } from "../platform/domainError.ts";
import { isMcpEndpoint, pathOf } from "./mcpEndpoint.ts";
import { json, rpcErrorResponse } from "./streamable.ts";

/** Seconds a refused client should wait: a load balancer has moved on by then, or a restarted process is up. */
const RETRY_AFTER_S = 5;

const MESSAGE = "dzx is shutting down: retry in a few seconds (another instance may answer)";

/** The answer to a request that arrives while draining; undefined for the routes that still answer. */
export function refuseWhileDraining(request: Request): Response | undefined {
  const path = pathOf(request.url);
  if (path === "/health" || path === "/ready") return undefined;
  // closing the connection sends a keep-alive client's next request to a fresh connection (and so elsewhere)
  const headers = { "retry-after": String(RETRY_AFTER_S), connection: "close" };
  // an MCP message POST is refused with a JSON-RPC error body, as MCP clients read one
  if (request.method === "POST" && isMcpEndpoint(path)) return rpcErrorResponse(httpStatusOf.UNAVAILABLE, { code: RpcCode.InternalError, message: MESSAGE }, headers);
  return json({ error: { code: "UNAVAILABLE", message: MESSAGE } }, httpStatusOf.UNAVAILABLE, headers);
}

/** Retry-After of the refusals, for /ready. */
export const DRAIN_RETRY_AFTER = String(RETRY_AFTER_S);
