/**
 * Request ids: each request gets one (the client's X-Request-Id, or our own),
 * echoed on the response and carried by every log line written about it.
 */

// a property on the request rather than a WeakMap entry: cheaper to set, and nothing for the GC to sweep
const ID = Symbol("dzx.requestId");
type Tagged = Request & { [ID]?: string };

/**
 * Ids unique within this process's run and distinct between runs: a random
 * prefix and a counter cost far less per request than a random UUID each.
 */
export function requestIds(): () => string {
  const prefix = crypto.randomUUID().slice(0, 8);
  let n = 0;
  return () => `${prefix}-${(++n).toString(36)}`;
}

/** Gives the request its id: the client's own (trimmed to 128 characters), or `next()`. */
export function assignRequestId(request: Request, next: () => string): string {
  const id = request.headers.get("x-request-id")?.slice(0, 128) || next();
  (request as Tagged)[ID] = id;
  return id;
}

/** The id a request was given, for log lines about it. */
export function requestIdOf(request: Request): string | undefined {
  return (request as Tagged)[ID];
}
