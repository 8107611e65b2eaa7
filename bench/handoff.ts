/**
 * What a postMessage to a sandbox-like worker costs the posting thread: to a
 * worker busy in a loop (the message only queues) and to a parked one (the
 * post must wake its thread). `bun bench/handoff.ts`; see bench/RESULTS.md.
 */
const worker = new Worker(new URL("./handoffWorker.ts", import.meta.url).href);
await new Promise((r) => (worker.onmessage = r));
const msg = JSON.stringify({ type: "run", callId: 1, input: { text: "hi" }, context: { requestId: "r" } });

worker.postMessage("spin"); // busy for 2 s
await Bun.sleep(50);
const posts = 20_000;
let t = performance.now();
for (let i = 0; i < posts; i++) worker.postMessage(msg);
console.log(`post to a busy worker:   ${(((performance.now() - t) * 1000) / posts).toFixed(2)} µs`);
await Bun.sleep(2500);

let total = 0;
const wakes = 2000;
for (let i = 0; i < wakes; i++) {
  await Bun.sleep(1); // the worker parks meanwhile
  const answered = new Promise((r) => (worker.onmessage = r));
  t = performance.now();
  worker.postMessage("echo");
  total += performance.now() - t;
  await answered;
}
console.log(`post to a parked worker: ${((total * 1000) / wakes).toFixed(2)} µs`);
worker.terminate();
