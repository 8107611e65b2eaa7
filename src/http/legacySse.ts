/**
 * The legacy HTTP+SSE transport (protocol 2024-11-05) for clients that speak only
 * it: `GET <endpoint>/sse` opens a session and its stream, whose first event names
 * where to POST messages (`<endpoint>/messages?sessionId=`); every response,
 * notification and request to the client then goes on that stream, and the client's
 * answers to those requests come back through the messages endpoint. Any endpoint
 * serves it from the same options as its Streamable HTTP transport (hosted servers,
 * `/mcp/dwizi`).
 */
import { NEVER_CANCELLED } from "../mcp/cancellation.ts";
import { RpcCode } from "../mcp/jsonrpc.ts";
import type { Session } from "../mcp/session.ts";
import type { Channel } from "./answer.ts";
import { rpcErrorResponse } from "./jsonResponse.ts";
import { SSE_HEADERS } from "./sse.ts";
import { admitCharged, charge, parseCharged, runMessages, sessionStream, type EndpointOptions } from "./streamable.ts";

/** The protocol revision this transport belongs to, until initialize says otherwise. */
const LEGACY_VERSION = "2024-11-05";

/** Builds the GET `/sse` and POST `/messages` handlers of one MCP endpoint. */
export function legacySseEndpoint<A>(opts: EndpointOptions<A>) {
  /** Opens a session whose stream carries an `endpoint` event, then every message of the session. */
  async function stream(request: Request): Promise<Response> {
    const admitted = await admitCharged(opts, request);
    if (admitted instanceof Response) return admitted;
    let session: Session;
    try {
      session = opts.sessions.open(admitted.owner, LEGACY_VERSION, undefined, undefined, admitted.group);
    } catch (err) {
      return rpcErrorResponse(429, { code: RpcCode.InvalidRequest, message: (err as Error).message }, admitted.headers);
    }
    const owner = admitted.owner;
    // the session lives as long as its stream
    const live = sessionStream(session, request, () => opts.sessions.close(session.id, owner));
    const base = new URL(request.url).pathname.replace(/\/sse\/?$/, "");
    live.write(`event: endpoint\ndata: ${base}/messages?sessionId=${session.id}\n\n`);
    return new Response(live.body, { status: 200, headers: { ...admitted.headers, ...SSE_HEADERS } });
  }

  /** Takes one POSTed message (or batch) for a session; what it owes goes on the session's stream. */
  async function message(request: Request): Promise<Response> {
    const admitted = await opts.admit(request);
    if (admitted instanceof Response) return admitted;
    const headers = { ...admitted.headers };
    const id = new URL(request.url).searchParams.get("sessionId") ?? "";
    const session = opts.sessions.get(id, admitted.owner);
    if (!session) {
      const refused = await charge(opts, admitted, undefined, headers);
      return refused ?? rpcErrorResponse(404, { code: RpcCode.SessionNotFound, message: "Session not found: open GET …/sse first and post to the endpoint it names" }, headers);
    }
    const parsed = await parseCharged(opts, request, admitted, headers);
    if (parsed instanceof Response) return parsed;
    const catalog = await opts.catalogFor(admitted.auth, request);
    const send = (m: unknown) => session.outbox.send(m);
    const channel: Channel = { send, requests: session.outbox.connected };
    // the POST is answered at once: what cancels these calls is the session ending (or notifications/cancelled)
    const onError = (err: unknown) => opts.onInternalError(err, request);
    void Promise.resolve(runMessages(opts.engine, catalog, parsed.messages, session, () => NEVER_CANCELLED, channel, onError))
      .then((responses) => {
        if (parsed.batch && responses.length) send(responses);
        else for (const r of responses) send(r);
      })
      .catch(onError);
    return new Response("Accepted", { status: 202, headers });
  }

  return { stream, message };
}
