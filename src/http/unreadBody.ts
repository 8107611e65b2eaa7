/**
 * A request body the answer did not need — refused before it was read (401, 413,
 * 429), or sent with a GET — is still read and dropped, for a bounded time and size
 * (lingering close, as nginx does). A server that closes with request bytes unread
 * makes the kernel reset the connection, and the client then loses the answer it was
 * already sent, or the end of it. A body declared larger than the bound is not read.
 */

const LINGER_BYTES = 64 * 1024 * 1024;
const LINGER_MS = 5000;

/** Drops what is left of the request's body, if anything is (call once the answer is made). */
export function drainUnread(request: Request): void {
  const body = request.body;
  if (!body || request.bodyUsed || body.locked) return;
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared === 0) return;
  if (declared > LINGER_BYTES) return void body.cancel().catch(() => {});
  const reader = body.getReader();
  const until = Date.now() + LINGER_MS;
  void (async () => {
    let read = 0;
    try {
      while (Date.now() < until && read <= LINGER_BYTES) {
        const { done, value } = await reader.read();
        if (done) return;
        read += value.byteLength;
      }
      await reader.cancel();
    } catch {}
  })();
}
