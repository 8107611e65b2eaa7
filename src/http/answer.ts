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

/** Whether a message is owed a response (a request, or one that did not decode). */
const owesResponse = (m: Incoming) => m.kind === "request" || m.kind === "invalid";

/** Answers a POST's messages as JSON or SSE (see the rule above); `session` is the one they run in, if any. */
export function answer(request: Request, headers: Record<string, string>, batch: boolean, messages: Incoming[], run: Run, session?: Session): Response | Promise<Response> {
  const accept = request.headers.get("accept") ?? "";
  const owesAnswer = messages.some(owesResponse);
  const eager = owesAnswer && wantsSse(request, accept);
  if (eager || (owesAnswer && acceptsSse(request, accept))) return new StreamedAnswer(request, headers, batch, session).run(run, eager);
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

/**
 * An answer that is SSE from the start (`eager`), or from the first message sent before the
 * results. One object per POST, its parts made when needed: a request that answers at once and
 * sends nothing first (ping, a list) makes no stream, no watch and no sender.
 */
class StreamedAnswer implements Channel {
  readonly requests: boolean;
  private watch: DisconnectWatch | undefined;
  private live: LiveSse | undefined;
  private write: (message: unknown) => unknown = () => {};
  private opened: Response | undefined;
  private settle: ((response: Response) => void) | undefined;
  private ended = false;
  private sender: ((message: unknown) => void) | undefined;

  constructor(
    private readonly request: Request,
    private readonly headers: Record<string, string>,
    private readonly batch: boolean,
    private readonly session: Session | undefined,
  ) {
    this.requests = session !== undefined;
  }

  /** Channel.send, callable detached. */
  get send(): (message: unknown) => void {
    return (this.sender ??= (m) => {
      if (!this.live) this.open();
      // a stream that carries messages before its results may wait long (a person answering): keep proxies from closing it
      this.live!.keepAlive();
      this.write(m);
    });
  }

  private watched(): DisconnectWatch {
    return (this.watch ??= disconnectWatch(this.request));
  }

  private open(): void {
    // the reader leaving the stream cancels the requests still running, as a dropped connection does
    const l = (this.live = liveSse(() => this.ended || this.watched().abort(new Error("client went away")), false));
    const events = this.session && SessionEvents.of(this.session);
    this.write = events ? events.requestStream(l) : (m) => l.send(m);
    this.opened = new Response(l.body, { status: 200, headers: { ...this.headers, ...SSE_HEADERS } });
    this.settle?.(this.opened);
  }

  private finish(responses: RpcResponse[]): void {
    this.ended = true;
    for (const r of responses) this.write(r);
    this.live!.close();
    this.watch?.stop();
  }

  // the requests answer every fault themselves: this only keeps a surprise from escaping the stream
  private fault(): void {
    this.finish([failure(null, { code: RpcCode.InternalError, message: "Internal error" })]);
  }

  /** Runs the POST's messages and answers. */
  run(run: Run, eager: boolean): Response | Promise<Response> {
    if (eager) this.open();
    const out = run(() => this.watched().signal(), this);
    if (!(out instanceof Promise)) {
      if (this.live) {
        this.finish(out);
        return this.opened!;
      }
      this.watch?.stop();
      return jsonAnswer(this.headers, this.batch, out);
    }
    if (this.opened) {
      out.then(
        (responses) => this.finish(responses),
        () => this.fault(),
      );
      return this.opened;
    }
    return new Promise<Response>((resolve, reject) => {
      this.settle = resolve;
      out.then(
        (responses) => {
          if (this.live) return this.finish(responses);
          this.watch?.stop();
          resolve(jsonAnswer(this.headers, this.batch, responses));
        },
        (err) => {
          if (this.live) return this.fault();
          this.watch?.stop();
          reject(err);
        },
      );
    });
  }
}
