/**
 * Server-Sent Events framing for MCP messages.
 */

/** One `event: message` frame carrying a JSON-RPC message. */
export function sseFrame(message: unknown): string {
  return `event: message\ndata: ${JSON.stringify(message)}\n\n`;
}

/** Whether the client asked for an SSE answer (`?stream=1`, or Accept naming only text/event-stream). */
export function wantsSse(request: Request, url: URL): boolean {
  const stream = url.searchParams.get("stream");
  if (stream === "1" || stream === "true") return true;
  const accept = request.headers.get("accept") ?? "";
  return accept.includes("text/event-stream") && !accept.includes("application/json");
}
