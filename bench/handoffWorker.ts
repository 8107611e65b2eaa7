/** The worker of bench/handoff.ts: "spin" keeps it busy for 2 s, "echo" answers at once. */
export {};
declare const self: Worker;
self.onmessage = (e: MessageEvent) => {
  if (e.data === "spin") {
    const until = performance.now() + 2000;
    while (performance.now() < until) {}
  } else if (e.data === "echo") self.postMessage(1);
};
self.postMessage("ready");
