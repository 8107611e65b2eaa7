/**
 * What a session sent lately, kept so a client that lost a stream can resume it
 * (MCP "Resumability and Redelivery"): every message a session sends on one of its
 * streams gets a sequence number unique in the session, and the last few are kept,
 * bounded by count and by bytes. Stream 0 is the session's own stream (GET); others
 * are the streams of single requests. Transport-free: the transport turns a stream
 * and a sequence number into an event id.
 */

/** Events a session keeps at most. */
export const REPLAY_EVENTS = 256;
/** Bytes of message text a session keeps at most. */
export const REPLAY_BYTES = 1024 * 1024;

/** One kept message. */
export interface Kept {
  stream: number;
  seq: number;
  /** The message as JSON text. */
  data: string;
  /** Its length in UTF-8 bytes. */
  bytes: number;
}

/** A session's recent messages. */
export class ReplayBuffer {
  private seq = 0;
  private kept: Kept[] = [];
  private head = 0;
  private bytes = 0;
  /** The highest sequence number dropped from stream 0, and from any other stream. */
  private droppedOwn = 0;
  private droppedOther = 0;

  constructor(
    private readonly maxEvents = REPLAY_EVENTS,
    private readonly maxBytes = REPLAY_BYTES,
  ) {}

  /** Numbers a message of `stream` and keeps it (dropping the oldest beyond the bounds); returns its number. */
  record(stream: number, data: string): number {
    const seq = ++this.seq;
    const bytes = Buffer.byteLength(data);
    this.kept.push({ stream, seq, data, bytes });
    this.bytes += bytes;
    while (this.kept.length - this.head > this.maxEvents || (this.bytes > this.maxBytes && this.head < this.kept.length)) this.drop();
    return seq;
  }

  /** A number that keeps nothing: a priming event, which only gives the client a place to resume from. */
  mark(): number {
    return ++this.seq;
  }

  /** The last number given. */
  get last(): number {
    return this.seq;
  }

  /**
   * The kept messages of `stream` numbered after `seq`, oldest first; undefined when
   * some were dropped already (the client cannot get all it missed) or `seq` was never given.
   */
  after(stream: number, seq: number): Kept[] | undefined {
    if (seq > this.seq || seq < 0) return undefined;
    const dropped = stream === 0 ? this.droppedOwn : this.droppedOther;
    if (dropped > seq) return undefined;
    const out: Kept[] = [];
    for (let i = this.head; i < this.kept.length; i++) {
      const k = this.kept[i]!;
      if (k.stream === stream && k.seq > seq) out.push(k);
    }
    return out;
  }

  private drop(): void {
    const k = this.kept[this.head]!;
    this.kept[this.head++] = undefined as never;
    this.bytes -= k.bytes;
    if (k.stream === 0) this.droppedOwn = k.seq;
    else this.droppedOther = k.seq;
    // compact once the dropped prefix outweighs what is kept
    if (this.head > 64 && this.head * 2 > this.kept.length) {
      this.kept = this.kept.slice(this.head);
      this.head = 0;
    }
  }
}
