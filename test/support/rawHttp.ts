/**
 * One HTTP/1.1 request over a raw TCP socket, for what fetch refuses or rewrites
 * (CONNECT, TRACE, odd method names, bytes no Headers object takes), with a
 * deadline so a request the server never answers is a result, not a stuck test.
 */
import { connect } from "node:net";

/** What came back; `status` 0 when nothing parseable did before the deadline or close. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
  /** The deadline passed before the answer was complete. */
  timedOut: boolean;
  /** The answer is an event stream: only its head (and what came with it) was read. */
  stream: boolean;
  error?: string;
}

export interface RawRequest {
  method: string;
  /** The request-target, sent as is (a path, or host:port for CONNECT). */
  target: string;
  headers: Record<string, string>;
  body?: Uint8Array;
  timeoutMs: number;
  /** Read an event-stream answer to its end (a POST's answer) rather than stopping at its head (a GET's stream). */
  readStreams?: boolean;
}

const CRLF2 = Buffer.from("\r\n\r\n");
/**
 * Bodies larger than the loopback socket buffers take at once are sent as curl sends
 * them: `Expect: 100-continue`, then in pieces that stop once an answer came. A server
 * that refuses a body by its declared length (413) answers and closes; writing on into
 * the closed connection makes the kernel reset it, and the answer is lost unread.
 */
const LARGE_BODY = 4 * 1024 * 1024;
const BODY_PIECE = 256 * 1024;

/** The body of a chunked message, or null while it is incomplete. */
function dechunk(buf: Buffer): Buffer | null {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = buf.indexOf("\r\n", at);
    if (eol < 0) return null;
    const size = parseInt(buf.subarray(at, eol).toString("latin1"), 16);
    if (Number.isNaN(size)) return Buffer.concat(parts); // malformed framing: keep what we have
    if (size === 0) return Buffer.concat(parts);
    if (buf.length < eol + 2 + size + 2) return null;
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

/** Sends one request to `host:port` and reads one answer (Connection: close). */
export function rawRequest(host: string, port: number, req: RawRequest): Promise<RawAnswer> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    let done = false;
    /** A large body waits for the server's 100 Continue (or its final answer). */
    let waitingToSend: Uint8Array | undefined;
    const socket = connect({ host, port });
    const finish = (a: Partial<RawAnswer>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: 0, headers: {}, body: new Uint8Array(), timedOut: false, stream: false, ...a });
    };
    /** Parses what arrived; finishes when the answer is complete (or `closed` says no more comes). */
    const tryParse = (closed: boolean, timedOut = false) => {
      const end = buf.indexOf(CRLF2);
      if (end < 0) return closed || timedOut ? finish({ timedOut, error: closed ? "closed before a full head" : undefined }) : undefined;
      const lines = buf.subarray(0, end).toString("latin1").split("\r\n");
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "")?.[1] ?? 0);
      if (status === 100) {
        buf = buf.subarray(end + 4); // an interim answer: the real one follows
        const body = waitingToSend;
        waitingToSend = undefined;
        if (body) writePieces(body);
        return tryParse(closed, timedOut);
      }
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const i = line.indexOf(":");
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      const rest = buf.subarray(end + 4);
      const head = { status, headers };
      if (req.method === "HEAD" || status === 204 || status === 304) return finish({ ...head, timedOut: false });
      if (!req.readStreams && (headers["content-type"] ?? "").includes("text/event-stream")) return finish({ ...head, body: rest, stream: true });
      if (headers["transfer-encoding"]?.includes("chunked")) {
        const body = dechunk(rest);
        if (body) return finish({ ...head, body });
      } else if (headers["content-length"] !== undefined) {
        const n = Number(headers["content-length"]);
        if (rest.length >= n) return finish({ ...head, body: rest.subarray(0, n) });
      } else if (closed) return finish({ ...head, body: rest });
      if (closed || timedOut) finish({ ...head, body: rest, timedOut, error: closed ? "closed mid-body" : undefined });
    };
    const timer = setTimeout(() => tryParse(false, true), req.timeoutMs);
    socket.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      tryParse(false);
    });
    socket.on("end", () => tryParse(true));
    socket.on("close", () => tryParse(true));
    socket.on("error", (e) => (buf.length ? tryParse(true) : finish({ error: e.message })));
    socket.on("connect", () => {
      const headers = { host: `${host}:${port}`, connection: "close", ...req.headers };
      if (req.body && !Object.keys(headers).some((h) => h.toLowerCase() === "content-length" || h.toLowerCase() === "transfer-encoding")) {
        (headers as Record<string, string>)["content-length"] = String(req.body.byteLength);
      }
      const large = req.body !== undefined && req.body.byteLength > LARGE_BODY;
      if (large) (headers as Record<string, string>).expect = "100-continue";
      const head = `${req.method} ${req.target} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join("\r\n")}\r\n\r\n`;
      socket.write(Buffer.from(head, "latin1"));
      if (large) waitingToSend = req.body;
      else if (req.body) socket.write(req.body);
    });
    /** Writes a body piece by piece, stopping once any answer arrived. */
    const writePieces = (body: Uint8Array) => {
      let at = 0;
      const more = () => {
        while (at < body.byteLength && !done && buf.length === 0) {
          const piece = body.subarray(at, at + BODY_PIECE);
          at += piece.byteLength;
          if (!socket.write(piece)) return void socket.once("drain", more);
        }
      };
      more();
    };
  });
}
