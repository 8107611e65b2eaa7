/**
 * Offset cursors for list operations: opaque to callers, stable for a given order.
 */
import { decodeOffset, encodeOffset } from "../offsetCursor.ts";
import { invalid } from "./domainError.ts";

/** Default and maximum page sizes. */
export const PAGE_DEFAULT = 50;
export const PAGE_MAX = 200;

/** Decodes a cursor into an offset; an unreadable cursor is the caller's error. */
export function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  const n = decodeOffset(cursor);
  if (n === undefined) throw invalid(`Invalid cursor "${cursor}": pass nextCursor from a previous page`);
  return n;
}

/** The cursor of the page after `offset + taken`, or undefined at the end. */
export function nextCursor(offset: number, taken: number, total: number): string | undefined {
  return offset + taken < total ? encodeOffset(offset + taken) : undefined;
}
