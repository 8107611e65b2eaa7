/**
 * Shapes a list result `{<plural>: [...], total, nextCursor?}` from all rows and page arguments.
 */
import { decodeCursor, nextCursor, PAGE_DEFAULT } from "../platform/page.ts";

/** One page of `items` under the key `plural`. */
export function listPage<T>(plural: string, items: T[], args: { limit?: number; cursor?: string }) {
  const offset = decodeCursor(args.cursor);
  const limit = args.limit ?? PAGE_DEFAULT;
  const page = items.slice(offset, offset + limit);
  const next = nextCursor(offset, page.length, items.length);
  return { [plural]: page, total: items.length, ...(next ? { nextCursor: next } : {}) };
}
