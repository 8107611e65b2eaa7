/**
 * Server-Sent Events for MCP messages: framing, the client's preference, and a
 * live stream that frames can be pushed into while a request runs.
 */

/** One `event: message` frame carrying a JSON-RPC message. */
export function sseFrame(message: unknown): string {
  return `event: message\ndata: ${JSON.stringify(message)}\n\n`;
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
  close(): void;
  readonly closed: boolean;
}

/** Opens a live SSE body; `onClose` runs once when either side ends it. Keepalive comments hold idle proxies open. */
export function liveSse(onClose: () => void = () => {}, keepaliveMs = 15_000): LiveSse {
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
  if (keepaliveMs > 0) {
    timer = setInterval(() => live.write(": keepalive\n\n"), keepaliveMs);
    (timer as { unref?: () => void }).unref?.();
  }
  return live;
}
