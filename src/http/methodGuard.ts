/**
 * Methods dzx does not serve, answered before any router sees them: CONNECT's
 * authority-form target is not a URL the routers can parse (it was a 500), TRACE
 * would echo the request, and HEAD on an MCP endpoint would open an event stream
 * that never ends (a HEAD answer has no body to end it with).
 */
import { isMcpEndpoint, pathOf } from "./mcpEndpoint.ts";
import { json } from "./jsonResponse.ts";

const SERVED = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
const ALLOW = "GET, HEAD, POST, PUT, PATCH, DELETE";

/** The 405 for a request whose method dzx does not serve there; undefined for every other request. */
export function methodRefusal(request: Request): Response | undefined {
  const method = request.method;
  if (method === "GET" || method === "POST") return undefined;
  if (!SERVED.has(method)) {
    return json({ error: { code: "METHOD_NOT_ALLOWED", message: `Method ${method.slice(0, 32)} is not served by dzx (it serves ${ALLOW})` } }, 405, { allow: ALLOW });
  }
  if (method === "HEAD" && isMcpEndpoint(pathOf(request.url))) {
    return json({ error: { code: "METHOD_NOT_ALLOWED", message: "HEAD is not served on an MCP endpoint: POST sends messages, GET opens the session's event stream, DELETE ends it" } }, 405, { allow: "GET, POST, DELETE" });
  }
  return undefined;
}
