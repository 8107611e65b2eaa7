/**
 * The edge while dzx drains (SPEC "Operations"): every new request is refused
 * with 503 and Retry-After so clients and load balancers go elsewhere, while the
 * calls already running finish. `/health` still answers (the process is alive)
 * and `/ready` says 503 itself (http/health.ts). The same refusal answers while
 * dzx is still starting (http/listener.ts).
 */
import { RpcCode } from "../mcp/jsonrpc.ts";
import { httpStatusOf } from "../platform/domainError.ts";
import { isMcpEndpoint, pathOf } from "./mcpEndpoint.ts";
import { json, rpcErrorResponse } from "./jsonResponse.ts";

/** Seconds a refused client should wait: a load balancer has moved on by then, or a restarted process is up. */
const RETRY_AFTER_S = 5;

const MESSAGE = "dzx is shutting down: retry in a few seconds (another instance may answer)";

/** A 503 saying `message`: a JSON-RPC error body for an MCP message POST (as MCP clients read one), else dzx's error shape. */
export function unavailable(request: Request, message: string, retryAfterS: number): Response {
  // closing the connection sends a keep-alive client's next request to a fresh connection (and so elsewhere)
  const headers = { "retry-after": String(retryAfterS), connection: "close" };
  if (request.method === "POST" && isMcpEndpoint(pathOf(request.url))) return rpcErrorResponse(httpStatusOf.UNAVAILABLE, { code: RpcCode.InternalError, message }, headers);
  return json({ error: { code: "UNAVAILABLE", message } }, httpStatusOf.UNAVAILABLE, headers);
}

/** The answer to a request that arrives while draining; undefined for the routes that still answer. */
export function refuseWhileDraining(request: Request): Response | undefined {
  const path = pathOf(request.url);
  if (path === "/health" || path === "/ready") return undefined;
  return unavailable(request, MESSAGE, RETRY_AFTER_S);
}

/** Retry-After of the refusals, for /ready. */
export const DRAIN_RETRY_AFTER = String(RETRY_AFTER_S);
