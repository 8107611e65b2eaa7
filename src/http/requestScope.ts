/**
 * The per-request scope a POST's messages run in: progress for a progressToken, log
 * messages at the lane's or session's level, both into the POST's channel; requests to
 * the client through it when it carries them and a session can take the client's answers.
 * One object per request with its parts made on first read: most requests (ping, lists,
 * a call that reports nothing) read none of them.
 */
import type { CancelSignal } from "../mcp/cancellation.ts";
import { clientRequestsOf, type Session } from "../mcp/session.ts";
import { LOG_LEVELS, type RequestScope } from "../mcp/engine.ts";
import type { Channel } from "./answer.ts";
import type { Lane } from "./streamable.ts";

class PostScope implements RequestScope {
  readonly multiRoundTrip: { binding: string } | undefined;
  private progressFn: RequestScope["progress"];
  private logFn: RequestScope["log"];

  constructor(
    private readonly params: Record<string, unknown> | undefined,
    readonly session: Session | undefined,
    private readonly signalOf: () => CancelSignal,
    private readonly channel: Channel | undefined,
    readonly onInternalError: (err: unknown) => void,
    private readonly lane: Lane,
  ) {
    this.multiRoundTrip = lane.roundsBoundTo === undefined ? undefined : { binding: lane.roundsBoundTo };
  }

  // read only by what can be cancelled: touching a server request's signal has a cost
  get signal(): CancelSignal {
    return this.signalOf();
  }

  get progress(): RequestScope["progress"] {
    const sink = this.channel?.send;
    const token = (this.params?._meta as Record<string, unknown> | undefined)?.progressToken;
    if (!sink || (typeof token !== "string" && typeof token !== "number")) return undefined;
    return (this.progressFn ??= (progress, total, message) =>
      sink({ jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: token, progress, ...(total !== undefined ? { total } : {}), ...(message ? { message } : {}) } }));
  }

  get log(): RequestScope["log"] {
    const sink = this.channel?.send;
    const logLevel = this.lane.logLevel === undefined ? (this.session?.logLevel ?? "info") : this.lane.logLevel;
    if (!sink || logLevel === null) return undefined;
    return (this.logFn ??= (level, data) => {
      if (LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(logLevel)) sink({ jsonrpc: "2.0", method: "notifications/message", params: { level, data } });
    });
  }

  get clientCapabilities(): Record<string, unknown> | undefined {
    return this.lane.capabilitiesOf?.(this.params);
  }

  get ask(): RequestScope["ask"] {
    const { session, channel } = this;
    return session && channel?.requests ? (method, p, call, abort) => clientRequestsOf(session).ask(channel.send, method, p, call, abort) : undefined;
  }
}

/** The scope of one request of a POST (see PostScope). */
export function requestScope(params: Record<string, unknown> | undefined, session: Session | undefined, signal: () => CancelSignal, channel: Channel | undefined, onInternalError: (err: unknown) => void, lane: Lane = {}): RequestScope {
  return new PostScope(params, session, signal, channel, onInternalError, lane);
}
