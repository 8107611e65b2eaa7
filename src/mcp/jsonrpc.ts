/**
 * JSON-RPC 2.0 as MCP uses it: message shapes, wire error codes, and the codec
 * that turns a parsed body into requests, notifications or a precise error.
 */

/** Wire error codes; domain errors never use these. */
export const RpcCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** Server-defined: the caller is not authenticated. */
  Unauthorized: -32001,
  /** Server-defined: rate limit exceeded (data.retryAfterMs says when to retry). */
  RateLimited: -32029,
  /** Server-defined: the session is unknown or ended. */
  SessionNotFound: -32002,
} as const;

/** A JSON-RPC id. */
export type RpcId = string | number;

/** A request: has an id and expects a response. */
export interface RpcRequest {
  jsonrpc: "2.0";
  id: RpcId;
  method: string;
  params?: Record<string, unknown>;
}

/** A notification: no id, no response. */
export interface RpcNotification {
  jsonrpc: "2.0";
  method: string;
  params?: Record<string, unknown>;
}

/** A response the client sent back (to a server-initiated request). */
export interface RpcClientResponse {
  jsonrpc: "2.0";
  id: RpcId;
  result?: unknown;
  error?: unknown;
}

/** An error object on the wire. */
export interface RpcErrorBody {
  code: number;
  message: string;
  data?: unknown;
}

/** A response we send. */
export type RpcResponse =
  | { jsonrpc: "2.0"; id: RpcId | null; result: unknown }
  | { jsonrpc: "2.0"; id: RpcId | null; error: RpcErrorBody };

/** A protocol fault, answered as a JSON-RPC error. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = "RpcError";
  }

  toBody(): RpcErrorBody {
    return this.data === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, data: this.data };
  }
}

/** A successful response. */
export function result(id: RpcId | null, value: unknown): RpcResponse {
  return { jsonrpc: "2.0", id, result: value };
}

/** An error response. */
export function failure(id: RpcId | null, err: RpcErrorBody): RpcResponse {
  return { jsonrpc: "2.0", id, error: err };
}

/** One decoded incoming message, or the error response it deserves. */
export type Incoming =
  | { kind: "request"; msg: RpcRequest }
  | { kind: "notification"; msg: RpcNotification }
  | { kind: "response"; msg: RpcClientResponse }
  | { kind: "invalid"; response: RpcResponse };

function isId(v: unknown): v is RpcId {
  return typeof v === "string" || (typeof v === "number" && Number.isFinite(v));
}

/** Classifies one parsed JSON value as a JSON-RPC message, naming what is wrong if it is not one. */
export function decode(value: unknown): Incoming {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { kind: "invalid", response: failure(null, { code: RpcCode.InvalidRequest, message: "Invalid Request: a JSON-RPC message must be a JSON object" }) };
  }
  const m = value as Record<string, unknown>;
  const id = isId(m.id) ? m.id : null;
  const bad = (message: string) => ({ kind: "invalid" as const, response: failure(id, { code: RpcCode.InvalidRequest, message: `Invalid Request: ${message}` }) });
  if (m.jsonrpc !== "2.0") return bad(`"jsonrpc" must be "2.0"`);
  if ("id" in m && m.id !== undefined && !isId(m.id)) return bad(`"id" must be a string or a number`);
  if (m.method === undefined && ("result" in m || "error" in m) && isId(m.id)) {
    return { kind: "response", msg: m as unknown as RpcClientResponse };
  }
  if (typeof m.method !== "string" || m.method === "") return bad(`"method" must be a non-empty string`);
  if (m.params !== undefined && (typeof m.params !== "object" || m.params === null || Array.isArray(m.params))) {
    if (isId(m.id)) return { kind: "invalid", response: failure(m.id, { code: RpcCode.InvalidParams, message: `Invalid params: "params" must be an object` }) };
    return bad(`"params" must be an object`);
  }
  if (isId(m.id)) return { kind: "request", msg: m as unknown as RpcRequest };
  return { kind: "notification", msg: m as unknown as RpcNotification };
}
