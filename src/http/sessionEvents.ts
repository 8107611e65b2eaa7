/**
 * The event streams of one Streamable HTTP session, made resumable (MCP
 * "Resumability and Redelivery"; issue 14): every event carries an id
 * `<stream>-<n>`, unique in the session (stream 0 is the session's own stream,
 * carried by GET; each POST answered as SSE is a stream of its own). The session's
 * stream outlives its connections: what it sends while no GET is open is kept and
 * written when one opens. A GET with `Last-Event-ID` replays what followed that event
 * on its stream, from the session's ReplayBuffer; when that is no longer kept, the
 * stream starts fresh and says so in a comment.
 */
import { REPLAY_BYTES, REPLAY_EVENTS, ReplayBuffer } from "../mcp/replayBuffer.ts";
import type { Outbox, Session } from "../mcp/session.ts";
import { primingEvent, RETRY_MS, sseComment, sseEvent, type LiveSse } from "./sse.ts";

/** The first revision whose clients skip an event with empty data (a priming event). */
const PRIMING_SINCE = "2025-11-25";

/** An id this session gave: `<stream>-<n>`. */
const EVENT_ID = /^(\d{1,9})-(\d{1,15})$/;

/** The SSE side of one session; it is the session's outbox. */
export class SessionEvents implements Outbox {
  private readonly replay = new ReplayBuffer();
  /** Request streams opened so far (their numbers are 1…streams). */
  private streams = 0;
  /** The GET connection carrying the session's stream, when one is open. */
  private own?: LiveSse;
  /** Messages of the session's stream up to this number were written to a connection. */
  private written = 0;

  constructor(private readonly session: Session) {}

  /** The events of `session`, when it is a Streamable HTTP session. */
  static of(session: Session): SessionEvents | undefined {
    return session.outbox instanceof SessionEvents ? session.outbox : undefined;
  }

  /** Makes `session` number and keep what it sends. */
  static install(session: Session): SessionEvents {
    const events = new SessionEvents(session);
    session.outbox = events;
    return events;
  }

  get connected(): boolean {
    return this.own !== undefined && !this.own.closed;
  }

  /** A message on the session's own stream: kept, and written now when a GET is open. */
  send(message: unknown): void {
    const data = JSON.stringify(message);
    const seq = this.replay.record(0, data);
    if (this.own?.write(sseEvent(`0-${seq}`, data))) this.written = seq;
  }

  /** Opens a request's stream on `live`: writes its opening and returns the writer of its events. */
  requestStream(live: LiveSse): (message: unknown) => boolean {
    const n = ++this.streams;
    // clients that cannot take a priming event get the reconnection hint on the first event
    let retry = !this.primes();
    if (!retry) live.write(primingEvent(`${n}-${this.replay.mark()}`));
    return (message) => {
      const data = JSON.stringify(message);
      const written = live.write(sseEvent(`${n}-${this.replay.record(n, data)}`, data, retry));
      retry = false;
      return written;
    };
  }

  /**
   * Serves a GET on `live`. Without `lastEventId` it carries the session's stream from
   * now on, after what that stream sent while no GET was open; with one, it first
   * replays what followed that event. An event of a request's stream replays the rest
   * of that request's events and ends the connection. Returns whether `live` now carries
   * the session's stream (a newer GET takes it over from an older one).
   */
  attach(live: LiveSse, lastEventId: string | null): boolean {
    let stream = 0;
    let from = this.written;
    let fresh: string | undefined;
    if (lastEventId !== null) {
      const m = EVENT_ID.exec(lastEventId.trim());
      if (!m || Number(m[1]) > this.streams || Number(m[2]) > this.replay.last) fresh = `Last-Event-ID "${lastEventId.slice(0, 80)}" names no event of this session: this stream starts fresh`;
      else {
        stream = Number(m[1]);
        from = Number(m[2]);
      }
    }
    const missed = fresh ? [] : this.replay.after(stream, from);
    if (!missed) {
      fresh = lastEventId === null
        ? `some events sent while no stream was open are no longer kept (a session keeps its last ${REPLAY_EVENTS} events, ${REPLAY_BYTES / 1024 / 1024} MiB at most): this stream starts fresh`
        : `the events after ${lastEventId} are no longer kept (a session keeps its last ${REPLAY_EVENTS} events, ${REPLAY_BYTES / 1024 / 1024} MiB at most): this stream starts fresh`;
    }
    live.write(`retry: ${RETRY_MS}\n${fresh ? sseComment(fresh) : ": stream open\n\n"}`);
    for (const k of missed ?? []) live.write(sseEvent(`${k.stream}-${k.seq}`, k.data));
    if (stream !== 0) {
      live.close();
      return false;
    }
    // a place to resume from, even before the first event
    if (this.primes()) live.write(primingEvent(`0-${this.replay.mark()}`));
    const before = this.own;
    this.own = live;
    this.written = this.replay.last;
    if (before && before !== live && !before.closed) {
      before.write(sseComment("a newer GET took over this session's stream"));
      before.close();
    }
    return true;
  }

  /** Forgets a GET connection that ended. */
  detach(live: LiveSse): void {
    if (this.own === live) this.own = undefined;
  }

  /** Priming events have empty data, which clients before 2025-11-25 fail to parse. */
  private primes(): boolean {
    return this.session.protocolVersion >= PRIMING_SINCE;
  }
}
