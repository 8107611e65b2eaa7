/**
 * Reads a byte stream to the end with a hard cap, cancelling the stream as soon
 * as the cap is passed (so an oversized body is never buffered whole).
 */

/** The stream's bytes as UTF-8 text; calls `tooLarge()` (which must throw) past `cap` bytes. */
export async function readBounded(stream: ReadableStream<Uint8Array> | null, cap: number, tooLarge: () => never): Promise<string> {
  if (!stream) return "";
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > cap) {
      await reader.cancel().catch(() => {});
      tooLarge();
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}
