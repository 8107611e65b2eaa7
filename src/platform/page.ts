/**
 * Offset cursors for list operations: opaque to callers, stable for a given order.
 */
import { invalid } from "./domainError.ts";

/** Default and maximum page sizes. */
export const PAGE_DEFAULT = 50;
export const PAGE_MAX = 200;

/** Decodes a cursor into an offset; an unreadable cursor is the caller's error. */
export function decodeCursor(cursor: string | undefined): number {
  if (!cursor) return 0;
  const n = Number(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!Number.isInteger(n) || n < 0) throw invalid(`Invalid cursor "${cursor}": pass nextCursor from a previous page`);
  return n;
}

/** The cursor of the page after `offset + taken`, or undefined at the end. */
export function nextCursor(offset: number, taken: number, total: number): string | undefined {
  return offset + taken < total ? Buffer.from(String(offset + taken)).toString("base64url") : undefined;
}
