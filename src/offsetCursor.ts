/**
 * Opaque list cursors that carry an offset. Decoding is strict: anything this
 * module did not issue is refused rather than read as some other offset.
 */

/** The cursor for `offset`. */
export function encodeOffset(offset: number): string {
  return Buffer.from(String(offset)).toString("base64url");
}

/** The offset in a cursor, or undefined when the cursor was never issued. */
export function decodeOffset(cursor: unknown): number | undefined {
  if (typeof cursor !== "string" || !/^[A-Za-z0-9_-]{1,24}$/.test(cursor)) return undefined;
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  if (!/^(0|[1-9]\d{0,14})$/.test(text) || encodeOffset(Number(text)) !== cursor) return undefined;
  return Number(text);
}
