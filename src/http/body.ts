/**
 * Reads a request body with a hard byte cap, whether or not Content-Length is sent.
 */
import { readBounded } from "../boundedBody.ts";
import type { Config } from "../config.ts";

/** The bounds every parsed body is held to: bytes (DZX_MAX_BODY_BYTES) and nesting (DZX_MAX_JSON_DEPTH). */
export type BodyLimits = Pick<Config, "maxBodyBytes" | "maxJsonDepth">;

/** Raised when a body exceeds the cap. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`Request body too large: the limit is ${limit} bytes`);
  }
}

/**
 * The body as text; rejects with BodyTooLargeError past `limit` bytes without buffering the rest.
 * Not async: on the hot path it hands back Bun's own promise rather than wrapping it in another.
 */
export function readBody(request: Request, limit: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLargeError(limit));
  // a declared length within the cap: Bun's native reader is much faster than a JS stream loop,
  // and Bun rejects bodies that run past their declared length
  if (Number.isFinite(declared)) return request.text();
  return readBounded(request.body, limit, () => {
    throw new BodyTooLargeError(limit);
  });
}
