/**
 * Server-Sent Events for MCP messages: framing, the client's preference, and a
 * live stream that frames can be pushed into while a request runs.
 */

/** One `event: message` frame carrying a JSON-RPC message. */
export function sseFrame(message: unknown): string {
  return `event: message\ndata: ${JSON.stringify(message)}\n\n`;
}

/** How long a client should wait before it reconnects a stream that ended, ms (the `retry:` hint). */
export const RETRY_MS = 1000;

/** One message event with its id (JSON text in `data`); `retry` adds the reconnection hint. */
export function sseEvent(id: string, data: string, retry = false): string {
  return `id: ${id}\n${retry ? `retry: ${RETRY_MS}\n` : ""}event: message\ndata: ${data}\n\n`;
}

/**
 * A priming event: an id to resume from and the reconnection hint, and no message.
 * Clients of protocol 2025-11-25 and later skip its empty data; older ones cannot parse it.
 */
export function primingEvent(id: string): string {
  return `id: ${id}\nretry: ${RETRY_MS}\ndata: \n\n`;
}

/** An SSE comment (clients ignore it): a note for whoever reads the stream. Line breaks are flattened. */
export function sseComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, " ")}\n\n`;
}

/** Whether the client asked for an SSE answer (`?stream=1`, or Accept naming only text/event-stream). */
export function wantsSse(request: Request, accept = request.headers.get("accept") ?? ""): boolean {
  if (accept.includes("text/event-stream") && !accept.includes("application/json")) return true;
  const url = request.url;
  if (!url.includes("stream=")) return false;
  const stream = new URL(url).searchParams.get("stream");
  return stream === "1" || stream === "true";
}

/** Whether the client can take an SSE answer at all. */
export function acceptsSse(request: Request, accept = request.headers.get("accept") ?? ""): boolean {
  return accept.includes("text/event-stream");
}

/** Headers of every SSE response. */
export const SSE_HEADERS = { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" };

/** A stream being written: push frames, then close. */
export interface LiveSse {
  body: ReadableStream<Uint8Array>;
  /** Writes one raw SSE chunk; false once the stream is closed. */
  write(chunk: string): boolean;
  send(message: unknown): boolean;
  /** Starts keepalive comments, if they are not running yet: for a stream that may now wait long between events. */
  keepAlive(): void;
  close(): void;
  readonly closed: boolean;
}

/** Interval of the keepalive comments that hold idle proxies open. */
const KEEPALIVE_MS = 15_000;

/** Opens a live SSE body; `onClose` runs once when either side ends it. Keepalive comments hold idle proxies open (`keepalive` false: from `keepAlive()` on). */
export function liveSse(onClose: () => void = () => {}, keepalive = true): LiveSse {
  const enc = new TextEncoder();
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  let closed = false;
  let timer: Timer | undefined;
  const finish = () => {
    if (closed) return;
    closed = true;
    if (timer) clearInterval(timer);
    onClose();
  };
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel() {
      finish();
    },
  });
  const live: LiveSse = {
    body,
    write(chunk) {
      if (closed || !controller) return false;
      try {
        controller.enqueue(enc.encode(chunk));
        return true;
      } catch {
        finish();
        return false;
      }
    },
    send: (message) => live.write(sseFrame(message)),
    keepAlive() {
      if (timer || closed) return;
      timer = setInterval(() => live.write(": keepalive\n\n"), KEEPALIVE_MS);
      (timer as { unref?: () => void }).unref?.();
    },
    close() {
      if (closed) return;
      try {
        controller?.close();
      } catch {}
      finish();
    },
    get closed() {
      return closed;
    },
  };
  if (keepalive) live.keepAlive();
  return live;
}
