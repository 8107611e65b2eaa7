/**
 * The answer to a POST of JSON-RPC messages: one JSON body or an SSE stream, by one
 * rule (README "Notifications and streams", issue 14):
 * - a client that takes both gets JSON when the results come before anything else
 *   to send; the moment a request has something to send first (a progress or log
 *   notification, a request to the client), the answer turns into an SSE stream
 *   carrying it, then the results;
 * - a client that asks for SSE alone (`Accept: text/event-stream`, `?stream=1`) gets SSE at once;
 * - a client that takes only JSON gets what its requests send on the session's own
 *   stream (GET), and requests to the client only while a GET is open.
 * A request that sends nothing first pays for none of it: no stream, no timer.
 */
import type { CancelSignal } from "../mcp/cancellation.ts";
import { failure, RpcCode, type Incoming, type RpcResponse } from "../mcp/jsonrpc.ts";
import type { Session } from "../mcp/session.ts";
import { disconnectWatch, type DisconnectWatch } from "./disconnect.ts";
import { json } from "./jsonResponse.ts";
import { SessionEvents } from "./sessionEvents.ts";
import { acceptsSse, liveSse, SSE_HEADERS, wantsSse, type LiveSse } from "./sse.ts";

/** Where a POST's server→client messages go while its requests run. `send` may be called detached. */
export interface Channel {
  readonly send: (message: unknown) => void;
  /** Whether requests to the client may go this way (its answers come back on the session). */
  readonly requests: boolean;
}

/** Runs a POST's messages: `signal` for what can be cancelled, `channel` for what they send meanwhile. */
export type Run = (signal: () => CancelSignal, channel: Channel | undefined) => RpcResponse[] | Promise<RpcResponse[]>;

/** The JSON answer to a POST: 202 when no response is owed. */
function jsonAnswer(headers: Record<string, string>, batch: boolean, responses: RpcResponse[]): Response {
  return responses.length === 0 ? new Response(null, { status: 202, headers }) : json(batch ? responses : responses[0], 200, headers);
}

/** Answers a POST's messages as JSON or SSE (see the rule above); `session` is the one they run in, if any. */
export function answer(request: Request, headers: Record<string, string>, batch: boolean, messages: Incoming[], run: Run, session?: Session): Response | Promise<Response> {
  const accept = request.headers.get("accept") ?? "";
  const owesAnswer = messages.some((m) => m.kind === "request" || m.kind === "invalid");
  const eager = owesAnswer && wantsSse(request, accept);
  if (eager || (owesAnswer && acceptsSse(request, accept))) return streamed(request, headers, batch, run, session, eager);
  // JSON only: what the requests send goes on the session's own stream
  const outbox = owesAnswer ? session?.outbox : undefined;
  const channel = outbox && { send: (m: unknown) => outbox.send(m), requests: outbox.connected };
  // made only for what can be cancelled (a ping never asks)
  let watch: DisconnectWatch | undefined;
  const reply = (responses: RpcResponse[]) => {
    watch?.stop();
    return jsonAnswer(headers, batch, responses);
  };
  const responses = run(() => (watch ??= disconnectWatch(request)).signal(), channel);
  return responses instanceof Promise ? responses.then(reply) : reply(responses);
}

/** An answer that is SSE from the start (`eager`), or from the first message sent before the results. */
function streamed(request: Request, headers: Record<string, string>, batch: boolean, run: Run, session: Session | undefined, eager: boolean): Response | Promise<Response> {
  let watch: DisconnectWatch | undefined;
  const watched = () => (watch ??= disconnectWatch(request));
  let live: LiveSse | undefined;
  let write: (message: unknown) => unknown = () => {};
  let opened: Response | undefined;
  let settle: ((response: Response) => void) | undefined;
  let ended = false;
  const open = () => {
    // the reader leaving the stream cancels the requests still running, as a dropped connection does
    const l = (live = liveSse(() => ended || watched().abort(new Error("client went away")), false));
    const events = session && SessionEvents.of(session);
    write = events ? events.requestStream(l) : (m) => l.send(m);
    opened = new Response(l.body, { status: 200, headers: { ...headers, ...SSE_HEADERS } });
    settle?.(opened);
  };
  const channel: Channel = {
    send: (m) => {
      if (!live) open();
      // a stream that carries messages before its results may wait long (a person answering): keep proxies from closing it
      live!.keepAlive();
      write(m);
    },
    requests: session !== undefined,
  };
  const finish = (responses: RpcResponse[]) => {
    ended = true;
    for (const r of responses) write(r);
    live!.close();
    watch?.stop();
  };
  // the requests answer every fault themselves: this only keeps a surprise from escaping the stream
  const fault = () => finish([failure(null, { code: RpcCode.InternalError, message: "Internal error" })]);
  if (eager) open();
  const out = run(() => watched().signal(), channel);
  if (!(out instanceof Promise)) {
    if (live) {
      finish(out);
      return opened!;
    }
    watch?.stop();
    return jsonAnswer(headers, batch, out);
  }
  if (opened) {
    out.then(finish, fault);
    return opened;
  }
  return new Promise<Response>((resolve, reject) => {
    settle = resolve;
    out.then(
      (responses) => {
        if (live) return finish(responses);
        watch?.stop();
        resolve(jsonAnswer(headers, batch, responses));
      },
      (err) => {
        if (live) return fault();
        watch?.stop();
        reject(err);
      },
    );
  });
}
