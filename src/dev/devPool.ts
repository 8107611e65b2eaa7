/**
 * The dev server's native worker pool, recycled when the folder's code changes:
 * new calls go to a fresh pool (fresh module registries: an edited helper file
 * counts, not only the tool file), and the old pool closes once its calls end.
 */
import { SandboxPool, type CallRequest, type PoolOptions } from "../sandbox/pool.ts";
import type { CallOutcome } from "../sandbox/protocol.ts";

export class DevPool {
  private readonly calls = new Map<SandboxPool, number>();
  private readonly retired = new Set<SandboxPool>();

  private constructor(
    private readonly opts: PoolOptions,
    private pool: SandboxPool,
  ) {}

  static async start(opts: PoolOptions): Promise<DevPool> {
    return new DevPool(opts, await SandboxPool.start(opts));
  }

  /** Runs a call on the current pool. */
  async run(req: CallRequest): Promise<CallOutcome> {
    const pool = this.pool;
    this.calls.set(pool, (this.calls.get(pool) ?? 0) + 1);
    try {
      return await pool.run(req);
    } finally {
      const left = (this.calls.get(pool) ?? 1) - 1;
      this.calls.set(pool, left);
      if (left === 0 && this.retired.has(pool)) void this.retire(pool);
    }
  }

  /** Starts a fresh pool for the calls to come; the old one ends when its calls have. */
  async recycle(): Promise<void> {
    const fresh = await SandboxPool.start(this.opts);
    const old = this.pool;
    this.pool = fresh;
    this.retired.add(old);
    if (!this.calls.get(old)) await this.retire(old);
  }

  private async retire(pool: SandboxPool): Promise<void> {
    this.retired.delete(pool);
    this.calls.delete(pool);
    await pool.close();
  }

  async close(): Promise<void> {
    await Promise.all([...this.retired].map((p) => p.close()));
    await this.pool.close();
  }
}
