/**
 * Reference worker for bench/sandbox.ts: answers a pool-shaped "run" message
 * with a "done" message at once, with no QuickJS, to measure the bare Bun
 * Worker round trip (postMessage both ways, JSON text as the pool sends it) on its own.
 */
declare const self: Worker;

self.onmessage = (event: MessageEvent<string | { type: string }>) => {
  const m = (typeof event.data === "string" ? JSON.parse(event.data) : event.data) as { type: string; callId: number; input: unknown };
  if (m.type === "run") {
    self.postMessage(JSON.stringify({ type: "done", callId: m.callId, outcome: { ok: true, output: m.input, logs: [], durationMs: 0 }, heapBytes: 0 }));
  }
};
self.postMessage({ type: "ready" });
