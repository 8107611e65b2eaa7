/**
 * The Streamable HTTP transport: carries the engine over POST (JSON or SSE answers),
 * GET and DELETE, with Mcp-Session-Id sessions. Adds no MCP behaviour of its own.
 */
import type { Catalog } from "../mcp/catalog.ts";
import type { McpEngine } from "../mcp/engine.ts";
import { decode, failure, RpcCode, type RpcErrorBody, type RpcResponse } from "../mcp/jsonrpc.ts";
import type { Session, SessionStore } from "../mcp/session.ts";
import { isSupported, negotiate } from "../mcp/version.ts";
import { BodyTooLargeError, readBody } from "./body.ts";
import { sseFrame, wantsSse } from "./sse.ts";

/** The caller, as the endpoint's authenticator resolved it. */
export interface Admitted<A> {
  auth: A;
  /** Sessions are bound to this owner (a key id, a server id). */
  owner: string;
  headers: Record<string, string>;
}

/** What an MCP endpoint plugs into the transport. */
export interface EndpointOptions<A> {
  engine: McpEngine;
  sessions: SessionStore;
  maxBodyBytes: number;
  /** Whether requests after initialize must carry Mcp-Session-Id. */
  requireSession: boolean;
  /** Resolves the caller, or answers (401, 429…) in its place. */
  admit(request: Request): Promise<Admitted<A> | Response>;
  catalogFor(auth: A, request: Request): Catalog;
  onInternalError(err: unknown): void;
}

/** A JSON response with extra headers. */
export function json(body: unknown, status: number, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

/** An HTTP-level JSON-RPC error answer. */
export function rpcErrorResponse(status: number, error: RpcErrorBody, headers: Record<string, string> = {}): Response {
  return json(failure(null, error), status, headers);
}

/** Builds the POST/GET/DELETE handlers of one MCP endpoint. */
export function streamableEndpoint<A>(opts: EndpointOptions<A>) {
  async function post(request: Request): Promise<Response> {
    const admitted = await opts.admit(request);
    if (admitted instanceof Response) return admitted;
    const headers = { ...admitted.headers };

    const version = request.headers.get("mcp-protocol-version");
    if (version && !isSupported(version)) {
      return rpcErrorResponse(400, { code: RpcCode.InvalidRequest, message: `Unsupported MCP-Protocol-Version "${version}"` }, headers);
    }

    let text: string;
    try {
      text = await readBody(request, opts.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLargeError) return rpcErrorResponse(413, { code: RpcCode.InvalidRequest, message: err.message }, headers);
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      const detail = text.trim() === "" ? "the body is empty" : (err as Error).message;
      return rpcErrorResponse(400, { code: RpcCode.ParseError, message: `Parse error: ${detail}` }, headers);
    }
    const batch = Array.isArray(parsed);
    const items = batch ? (parsed as unknown[]) : [parsed];
    if (batch && items.length === 0) return rpcErrorResponse(400, { code: RpcCode.InvalidRequest, message: "Invalid Request: empty batch" }, headers);
    const messages = items.map(decode);

    // Session: initialize opens one; otherwise the header must name a live one.
    const isInit = messages.some((m) => m.kind === "request" && m.msg.method === "initialize");
    const sessionId = request.headers.get("mcp-session-id");
    let session: Session | undefined;
    if (isInit) {
      if (batch) return rpcErrorResponse(400, { code: RpcCode.InvalidRequest, message: "Invalid Request: initialize must not be batched" }, headers);
    } else if (sessionId) {
      session = opts.sessions.get(sessionId, admitted.owner);
      if (!session) return rpcErrorResponse(404, { code: RpcCode.SessionNotFound, message: "Session not found: it expired or was ended; initialize a new one" }, headers);
    } else if (opts.requireSession && messages.some((m) => m.kind === "request")) {
      return rpcErrorResponse(400, { code: RpcCode.InvalidRequest, message: "Bad Request: Mcp-Session-Id header is required; call initialize first" }, headers);
    }

    const catalog = opts.catalogFor(admitted.auth, request);
    const responses: RpcResponse[] = [];
    for (const m of messages) {
      if (m.kind === "invalid") responses.push(m.response);
      else if (m.kind === "request") {
        const res = await opts.engine.handle(catalog, m.msg, { session, signal: request.signal, onInternalError: opts.onInternalError });
        if (m.msg.method === "initialize" && "result" in res) {
          const p = m.msg.params ?? {};
          session = opts.sessions.open(admitted.owner, negotiate(p.protocolVersion), p.clientInfo, p.capabilities);
          headers["mcp-session-id"] = session.id;
        }
        responses.push(res);
      }
      // notifications and client responses need no answer
    }
    if (responses.length === 0) return new Response(null, { status: 202, headers });
    const url = new URL(request.url);
    const body = batch ? responses : responses[0];
    if (wantsSse(request, url)) {
      const frames = (batch ? responses : [responses[0]]).map(sseFrame).join("");
      return new Response(frames, { status: 200, headers: { ...headers, "content-type": "text/event-stream", "cache-control": "no-cache" } });
    }
    return json(body, 200, headers);
  }

  async function del(request: Request): Promise<Response> {
    const admitted = await opts.admit(request);
    if (admitted instanceof Response) return admitted;
    const id = request.headers.get("mcp-session-id");
    if (!id) return rpcErrorResponse(400, { code: RpcCode.InvalidRequest, message: "Bad Request: Mcp-Session-Id header is required" }, admitted.headers);
    if (!opts.sessions.close(id, admitted.owner)) {
      return rpcErrorResponse(404, { code: RpcCode.SessionNotFound, message: "Session not found" }, admitted.headers);
    }
    return new Response(null, { status: 204, headers: admitted.headers });
  }

  async function get(request: Request): Promise<Response> {
    const admitted = await opts.admit(request);
    if (admitted instanceof Response) return admitted;
    return rpcErrorResponse(405, { code: RpcCode.InvalidRequest, message: "Method not allowed: this endpoint has no server-initiated stream; use POST" }, {
      ...admitted.headers,
      allow: "POST, DELETE",
    });
  }

  return { post, get, delete: del };
}
