/**
 * Which request paths are MCP endpoints (`/mcp/<name>` with its legacy `/sse` and
 * `/messages`, and `/api/v1/mcp/servers/<id>/protocol`): the edge guards answer
 * those in JSON-RPC terms, and know GET there opens a stream.
 */

/** A request URL's path, or "" when the target is not a URL (CONNECT's authority form). */
export function pathOf(url: string): string {
  return URL.parse(url)?.pathname ?? "";
}

/** Whether `path` is an MCP endpoint. */
export function isMcpEndpoint(path: string): boolean {
  return path.startsWith("/mcp/") || (path.startsWith("/api/v1/mcp/servers/") && /\/protocol\/?$/.test(path));
}
