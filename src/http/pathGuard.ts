/**
 * A path whose percent-encoding does not decode (`/mcp/%E0%A4%A`) is answered 400
 * at the edge: the router hands such a route's parameters over as null, and every
 * handler behind it would have to guard against that.
 */
import { json } from "./jsonResponse.ts";

/** The 400 for a request whose path does not decode; undefined for every other request. */
export function malformedPath(request: Request): Response | undefined {
  const url = request.url;
  // the common case costs one scan: no escape, nothing to decode
  if (!url.includes("%")) return undefined;
  const start = url.indexOf("/", url.indexOf("//") + 2);
  const end = url.indexOf("?", start);
  try {
    decodeURIComponent(url.slice(start, end < 0 ? undefined : end));
    return undefined;
  } catch {
    return json({ error: { code: "VALIDATION_ERROR", message: "Malformed path: its percent-encoding does not decode (e.g. a lone or truncated %XX escape)" } }, 400);
  }
}
