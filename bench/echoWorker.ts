/**
 * Reference worker for bench/sandbox.ts: answers a pool-shaped "run" message
 * with a "done" message at once, with no QuickJS, to measure the bare Bun
 * Worker round trip (postMessage both ways + structured clone) on its own.
 */
declare const self: Worker;

self.onmessage = (event: MessageEvent<{ type: string; callId: number; input: unknown }>) => {
  const m = event.data;
  if (m.type === "run") {
    self.postMessage({ type: "done", callId: m.callId, outcome: { ok: true, output: m.input, logs: [], durationMs: 0 }, heapBytes: 0 });
  }
};
self.postMessage({ type: "ready" });
