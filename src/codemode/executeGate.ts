/**
 * How many CODE-mode scripts may run at once. A script holds a sandbox worker
 * while each `tools.*` call it makes needs another one, so scripts must leave at
 * least one worker free or they could all wait on each other until they time out.
 */
import type { CancelSignal } from "../mcp/cancellation.ts";
import type { SandboxPool } from "../sandbox/pool.ts";

const gates = new WeakMap<SandboxPool, ExecuteGate>();

/** A counting semaphore sized to the pool minus one worker. */
export class ExecuteGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly capacity: number) {}

  /** The gate of a pool (made on first use). */
  static of(pool: SandboxPool): ExecuteGate {
    let g = gates.get(pool);
    if (!g) gates.set(pool, (g = new ExecuteGate(Math.max(1, pool.size - 1))));
    return g;
  }

  /** Runs `fn` when a place is free; an aborted wait gives up its turn. */
  async run<T>(fn: () => Promise<T>, signal?: CancelSignal): Promise<T> {
    if (this.running >= this.capacity) {
      await new Promise<void>((resolve, reject) => {
        const go = () => {
          signal?.removeEventListener("abort", quit);
          resolve();
        };
        const quit = () => {
          const i = this.waiting.indexOf(go);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(new Error("The call was cancelled while waiting to run"));
        };
        signal?.addEventListener("abort", quit, { once: true });
        this.waiting.push(go);
      });
    }
    this.running++;
    try {
      return await fn();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
