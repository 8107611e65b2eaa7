/**
 * The Streamable HTTP transport: carries the engine over POST (JSON or SSE answers),
 * GET (the session's notification stream) and DELETE, with Mcp-Session-Id sessions.
 * Adds no MCP behaviour of its own.
 */
import type { Catalog } from "../mcp/catalog.ts";
import type { McpEngine } from "../mcp/engine.ts";
import { decode, failure, RpcCode, RpcError, type Incoming, type RpcResponse } from "../mcp/jsonrpc.ts";
import type { Session, SessionStore, SessionStream } from "../mcp/session.ts";
import { initializeProblem, isSupported, negotiate } from "../mcp/version.ts";
import { BodyTooLargeError, readBody, type BodyLimits } from "./body.ts";
import { drainUnread } from "./unreadBody.ts";
import { textTooDeep, tooDeepMessage } from "../jsonDepth.ts";
import { envelopeOf, isModernVersion } from "../mcp/rev2026.ts";
import { serveModern } from "./modernLane.ts";
import type { CancelSignal } from "../mcp/cancellation.ts";
import { answer, type Channel } from "./answer.ts";
import { requestScope } from "./requestScope.ts";
import { json, rpcErrorResponse } from "./jsonResponse.ts";
import { SessionEvents } from "./sessionEvents.ts";
import { acceptsSse, liveSse, SSE_HEADERS, type LiveSse } from "./sse.ts";


/** The caller, as the endpoint's authenticator resolved it. */
export interface Admitted<A> {
  auth: A;
  /** Sessions are bound to this owner (a key id; a server id and token). */
  owner: string;
  /** Sessions of one group share a cap and its notifications (a hosted server's id). */
  group?: string;
  headers: Record<string, string>;
}

/** What an MCP endpoint plugs into the transport. */
export interface EndpointOptions<A> {
  engine: McpEngine;
  sessions: SessionStore;
  /** Size and depth bounds of a POST body. */
  limits: BodyLimits;
  /** Whether requests after initialize must carry Mcp-Session-Id. */
  requireSession: boolean;
  /** Resolves the caller, or answers (401, 429…) in its place. */
  /** May answer synchronously: each await on the hot path costs a turn of the event loop. */
  admit(request: Request): Admitted<A> | Response | Promise<Admitted<A> | Response>;
  /**
   * Charges the caller for what it sent — the messages of a POST, or undefined for a
   * stream opened, a session ended or a body that did not parse — returning headers
   * to add, or answers (429) in its place. Absent: nothing is charged past admit.
   */
  meter?(auth: A, messages: readonly Incoming[] | undefined): Record<string, string> | Response | Promise<Record<string, string> | Response>;
  catalogFor(auth: A, request: Request): Catalog | Promise<Catalog>;
  /** Told of a fault no answer could name (logged with the request's id). */
  onInternalError(err: unknown, request: Request): void;
}

/**
 * An SSE body registered as one of the session's streams (GET, legacy SSE, listen).
 * It ends when the client goes or the session ends, then runs `onEnd`; `deliver`
 * may filter or rewrite what the session sends.
 */
export function sessionStream(session: Session, request: Request, onEnd: () => void = () => {}, deliver: (live: LiveSse, message: unknown) => void = (live, m) => void live.send(m)): LiveSse {
  const stream: SessionStream = { send: (m) => deliver(live, m), close: () => live.close() };
  const live = liveSse(() => {
    session.streams.delete(stream);
    onEnd();
  });
  session.streams.add(stream);
  request.signal.addEventListener("abort", () => live.close(), { once: true });
  return live;
}

/** How a protocol lane differs: where the log level and the client's capabilities come from, how responses are encoded, whether tool calls take rounds. */
export interface Lane {
  /** Minimum level of log messages; null sends none. Default: the session's level. */
  logLevel?: string | null;
  /** What the client declared, read from each request (default: what the session learnt in initialize). */
  capabilitiesOf?(params: Record<string, unknown> | undefined): Record<string, unknown> | undefined;
  encode?(method: string, res: RpcResponse): RpcResponse;
  /** Tool calls are multi round-trip requests whose state is bound to this (the 2026-07-28 lane). */
  roundsBoundTo?: string;
}

/**
 * Runs decoded messages in order; returns the responses owed (notifications get none; the
 * client's responses settle the session's requests to it, or are ignored when none waits).
 * Synchronous while every method answers synchronously.
 */
export function runMessages(
  engine: McpEngine,
  catalog: Catalog,
  messages: Incoming[],
  session: Session | undefined,
  signal: () => CancelSignal,
  channel: Channel | undefined,
  onInternalError: (err: unknown) => void,
  lane: Lane = {},
): RpcResponse[] | Promise<RpcResponse[]> {
  const responses: RpcResponse[] = [];
  const settle = (method: string, res: RpcResponse | null) => {
    if (res) responses.push(lane.encode ? lane.encode(method, res) : res);
  };
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (m.kind === "invalid") responses.push(m.response);
    else if (m.kind === "notification") engine.notify(m.msg.method, m.msg.params, session);
    else if (m.kind === "response") session?.clientRequests?.settle(m.msg);
    else {
      const res = engine.handle(catalog, m.msg, requestScope(m.msg.params, session, signal, channel, onInternalError, lane));
      if (res instanceof Promise) {
        // from the first asynchronous method on, the rest run after it, in order
        const method = m.msg.method;
        return res.then(async (r) => {
          settle(method, r);
          const rest = await runMessages(engine, catalog, messages.slice(i + 1), session, signal, channel, onInternalError, lane);
          return [...responses, ...rest];
        });
      }
      settle(m.msg.method, res);
    }
  }
  return responses;
}

/** A POST body's messages, and whether they came as a batch. */
export interface Parsed {
  batch: boolean;
  messages: Incoming[];
}

/** Reads and parses a POST body; an error Response when it is too large or not JSON. */
export function parseBody(request: Request, limits: BodyLimits, headers: Record<string, string>): Promise<Parsed | Response> {
  return readBody(request, limits.maxBodyBytes).then(
    (text) => parseMessages(text, limits.maxJsonDepth, headers),
    (err) => {
      if (err instanceof BodyTooLargeError) {
        // refused by its declared length, unread: drained so closing does not reset the 413 away
        drainUnread(request);
        return rpcErrorResponse(413, { code: RpcCode.InvalidRequest, message: err.message }, headers);
      }
      throw err;
    },
  );
}

/** Charges the caller (EndpointOptions.meter) into `headers`; the refusal when the meter answers instead. */
export async function charge<A>(opts: EndpointOptions<A>, admitted: Admitted<A>, messages: readonly Incoming[] | undefined, headers: Record<string, string>): Promise<Response | undefined> {
  if (!opts.meter) return undefined;
  const charged = await opts.meter(admitted.auth, messages);
  if (charged instanceof Response) {
    for (const k in headers) if (!charged.headers.has(k)) charged.headers.set(k, headers[k]!);
    return charged;
  }
  Object.assign(headers, charged);
  return undefined;
}

/** admit, then the caller charged for a request that carries no messages (a stream opened, a session ended). */
export async function admitCharged<A>(opts: EndpointOptions<A>, request: Request): Promise<Admitted<A> | Response> {
  const admitted = await opts.admit(request);
  if (admitted instanceof Response) return admitted;
  const headers = { ...admitted.headers };
  return (await charge(opts, admitted, undefined, headers)) ?? { ...admitted, headers };
}

/** parseBody, then the caller charged for what it sent; `headers` gains the meter's. Without a meter, parseBody alone (the hosted hot path). */
export function parseCharged<A>(opts: EndpointOptions<A>, request: Request, admitted: Admitted<A>, headers: Record<string, string>): Promise<Parsed | Response> {
  const parsed = parseBody(request, opts.limits, headers);
  if (!opts.meter) return parsed;
  return parsed.then(async (p) => {
    const refused = await charge(opts, admitted, p instanceof Response ? undefined : p.messages, headers);
    if (refused) return refused;
    if (p instanceof Response) for (const k in headers) p.headers.set(k, headers[k]!);
    return p;
  });
}

/** A POST body's JSON-RPC messages; an error Response when it is not JSON, nested too deep or an empty batch. */
function parseMessages(text: string, maxDepth: number, headers: Record<string, string>): Parsed | Response {
  // refused before it is parsed: no work is spent on a hostile body, and nothing that deep reaches a handler or the call log
  if (textTooDeep(text, maxDepth)) return rpcErrorResponse(400, { code: RpcCode.InvalidRequest, message: `Invalid Request: ${tooDeepMessage("the body", maxDepth)}` }, headers);
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
  return { batch, messages: items.map(decode) };
}

/** The caller with the answer's headers (the admitted ones and the endpoint caller's base ones). */
function withHeaders<A>(admitted: Admitted<A>, headers: Record<string, string>): Admitted<A> {
  return { ...admitted, headers: { ...headers } };
}

// predicates over a POST's messages, made once rather than per request
const hasEnvelope = (m: Incoming) => (m.kind === "request" || m.kind === "notification") && envelopeOf(m.msg.params) !== undefined;
const isInitialize = (m: Incoming) => m.kind === "request" && m.msg.method === "initialize";
const isRequest = (m: Incoming) => m.kind === "request";

/** Builds the POST/GET/DELETE handlers of one MCP endpoint. */
export function streamableEndpoint<A>(opts: EndpointOptions<A>) {
  /**
   * A POST: admission, the lane, the body, then its messages (postMessages). `base` headers go on
   * every answer (the request id, when the caller stamps it here rather than after). Not async:
   * on the hot path an await costs a turn of the event loop (~0.35 µs of a ~15 µs ping here), so
   * a known caller's POST waits only for its body.
   */
  function post(request: Request, base?: Record<string, string>): Promise<Response> {
    try {
      const admitted = opts.admit(request);
      return admitted instanceof Promise ? admitted.then((a) => postAdmitted(request, a, base)) : postAdmitted(request, admitted, base);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  function postAdmitted(request: Request, admitted: Admitted<A> | Response, base: Record<string, string> | undefined): Promise<Response> {
    if (admitted instanceof Response) {
      if (base) for (const k in base) admitted.headers.set(k, base[k]!);
      // refused unread (a bad token): drained so closing does not reset the refusal away
      drainUnread(request);
      return Promise.resolve(admitted);
    }
    const headers = base ? { ...admitted.headers, ...base } : { ...admitted.headers };
    const version = request.headers.get("mcp-protocol-version");
    if (version && isModernVersion(version)) return serveModern(opts, request, withHeaders(admitted, headers));
    if (version && !isSupported(version)) {
      return Promise.resolve(rpcErrorResponse(400, { code: RpcCode.InvalidRequest, message: `Unsupported MCP-Protocol-Version "${version}"` }, headers));
    }
    return parseCharged(opts, request, admitted, headers).then((parsed) => (parsed instanceof Response ? parsed : postMessages(request, admitted, headers, parsed)));
  }

  /** A POST's parsed messages: their lane, their session (initialize opens one), their answer. */
  function postMessages(request: Request, admitted: Admitted<A>, headers: Record<string, string>, parsed: Parsed): Response | Promise<Response> {
    const { batch, messages } = parsed;
    // a client of the 2026-07-28 lane may omit the header; its envelope says which lane it is on
    if (messages.some(hasEnvelope)) return serveModern(opts, request, withHeaders(admitted, headers), parsed);

    // Session: initialize opens one; otherwise the header must name a live one.
    const init = messages.find(isInitialize);
    const sessionId = request.headers.get("mcp-session-id");
    let session: Session | undefined;
    if (init) {
      if (batch) return rpcErrorResponse(400, { code: RpcCode.InvalidRequest, message: "Invalid Request: initialize must not be batched" }, headers);
    } else if (sessionId) {
      session = opts.sessions.get(sessionId, admitted.owner);
      if (!session) return rpcErrorResponse(404, { code: RpcCode.SessionNotFound, message: "Session not found: it expired or was ended; initialize a new one" }, headers);
    } else if (opts.requireSession && messages.some(isRequest)) {
      return rpcErrorResponse(400, { code: RpcCode.InvalidRequest, message: "Bad Request: Mcp-Session-Id header is required; call initialize first" }, headers);
    }

    const withCatalog = (catalog: Catalog): Response | Promise<Response> => {
      // an initialize the engine will refuse opens no session
      if (init?.kind === "request" && !initializeProblem(init.msg.params)) {
        const p = init.msg.params ?? {};
        try {
          session = opts.sessions.open(admitted.owner, negotiate(p.protocolVersion), p.clientInfo, p.capabilities as Record<string, unknown> | undefined, admitted.group);
        } catch (err) {
          if (err instanceof RpcError) return json(failure(init.msg.id, err.toBody()), 429, headers);
          throw err;
        }
        headers["mcp-session-id"] = session.id;
        SessionEvents.install(session);
      }
      return answer(request, headers, batch, messages, (signal, channel) => runMessages(opts.engine, catalog, messages, session, signal, channel, (err) => opts.onInternalError(err, request)), session);
    };
    const pending = opts.catalogFor(admitted.auth, request);
    return pending instanceof Promise ? pending.then(withCatalog) : withCatalog(pending);
  }

  async function del(request: Request): Promise<Response> {
    const admitted = await admitCharged(opts, request);
    if (admitted instanceof Response) return admitted;
    const id = request.headers.get("mcp-session-id");
    if (!id) return rpcErrorResponse(400, { code: RpcCode.InvalidRequest, message: "Bad Request: Mcp-Session-Id header is required" }, admitted.headers);
    if (!opts.sessions.close(id, admitted.owner)) {
      return rpcErrorResponse(404, { code: RpcCode.SessionNotFound, message: "Session not found" }, admitted.headers);
    }
    return new Response(null, { status: 204, headers: admitted.headers });
  }

  /**
   * GET opens the session's stream of server-initiated messages; with Last-Event-ID it first
   * replays what the client missed (sessionEvents.ts).
   */
  async function get(request: Request): Promise<Response> {
    const admitted = await admitCharged(opts, request);
    if (admitted instanceof Response) return admitted;
    const id = request.headers.get("mcp-session-id");
    if (!acceptsSse(request)) {
      return rpcErrorResponse(406, { code: RpcCode.InvalidRequest, message: "Not Acceptable: GET opens an event stream; send Accept: text/event-stream" }, admitted.headers);
    }
    if (!id) {
      return rpcErrorResponse(400, { code: RpcCode.InvalidRequest, message: "Bad Request: Mcp-Session-Id header is required; call initialize first" }, admitted.headers);
    }
    const session = opts.sessions.get(id, admitted.owner);
    if (!session) return rpcErrorResponse(404, { code: RpcCode.SessionNotFound, message: "Session not found: it expired or was ended; initialize a new one" }, admitted.headers);
    const events = SessionEvents.of(session);
    let live: LiveSse;
    if (events) {
      live = sessionStream(session, request, () => events.detach(live));
      events.attach(live, request.headers.get("last-event-id"));
    } else {
      live = sessionStream(session, request);
      live.write(": stream open\n\n");
    }
    return new Response(live.body, { status: 200, headers: { ...admitted.headers, ...SSE_HEADERS, "mcp-session-id": session.id } });
  }

  return { post, get, delete: del };
}
