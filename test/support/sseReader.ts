/**
 * Reads a streaming Server-Sent Events body block by block, as it arrives, so a
 * test can wait for an event while the server is still writing the stream.
 */

/** One block of the stream: an event's fields, or only comments. */
export interface SseBlock {
  id?: string;
  event?: string;
  /** The data lines joined; undefined when the block had none. */
  data?: string;
  retry?: number;
  comments: string[];
  /** `data` parsed as JSON, when it is JSON. */
  json?: any;
}

/** Parses one block (the text between blank lines). */
export function parseBlock(text: string): SseBlock {
  const block: SseBlock = { comments: [] };
  const data: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith(":")) {
      block.comments.push(line.slice(1).trim());
      continue;
    }
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "id") block.id = value;
    else if (field === "event") block.event = value;
    else if (field === "retry") block.retry = Number(value);
    else if (field === "data") data.push(value);
  }
  if (data.length) {
    block.data = data.join("\n");
    try {
      block.json = JSON.parse(block.data);
    } catch {}
  }
  return block;
}

/** A reader over one SSE body. */
export class SseReader {
  private readonly reader: { read(): Promise<{ value?: Uint8Array; done: boolean }>; cancel(): Promise<void> };
  private readonly decoder = new TextDecoder();
  private buffer = "";
  /** Every block read so far. */
  readonly seen: SseBlock[] = [];

  constructor(body: ReadableStream<Uint8Array> | null) {
    if (!body) throw new Error("the response has no body");
    this.reader = body.getReader();
  }

  /** The next block; undefined once the stream ended. */
  async next(): Promise<SseBlock | undefined> {
    for (;;) {
      const end = this.buffer.search(/\r?\n\r?\n/);
      if (end >= 0) {
        const text = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end).replace(/^\r?\n\r?\n/, "");
        const block = parseBlock(text);
        this.seen.push(block);
        return block;
      }
      const { value, done } = await this.reader.read();
      if (done) return undefined;
      this.buffer += this.decoder.decode(value, { stream: true });
    }
  }

  /** Reads until a block satisfies `match`; returns the blocks read meanwhile, that one last. Fails if the stream ends first. */
  async until(match: (b: SseBlock) => boolean, what = "the awaited event"): Promise<SseBlock[]> {
    const read: SseBlock[] = [];
    for (;;) {
      const b = await this.next();
      if (!b) throw new Error(`the stream ended before ${what}; read: ${JSON.stringify(read)}`);
      read.push(b);
      if (match(b)) return read;
    }
  }

  /** Reads to the end of the stream; returns the blocks read meanwhile. */
  async rest(): Promise<SseBlock[]> {
    const read: SseBlock[] = [];
    for (let b = await this.next(); b; b = await this.next()) read.push(b);
    return read;
  }

  /** Drops the stream (the client goes away). */
  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => {});
  }
}

/** The JSON-RPC messages among blocks (priming events and comments carry none). */
export function messages(blocks: SseBlock[]): any[] {
  return blocks.filter((b) => b.json !== undefined).map((b) => b.json);
}

/** Every block of a complete SSE body. */
export function parseSse(body: string): SseBlock[] {
  return body
    .split(/\r?\n\r?\n/)
    .filter((t) => t.trim() !== "")
    .map(parseBlock);
}
