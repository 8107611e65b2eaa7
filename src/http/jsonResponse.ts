/**
 * JSON answers: a body with extra headers, and the HTTP-level JSON-RPC error.
 */
import { failure, type RpcErrorBody } from "../mcp/jsonrpc.ts";

/** A JSON response with extra headers. */
export function json(body: unknown, status: number, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

/** An HTTP-level JSON-RPC error answer. */
export function rpcErrorResponse(status: number, error: RpcErrorBody, headers: Record<string, string> = {}): Response {
  return json(failure(null, error), status, headers);
}
