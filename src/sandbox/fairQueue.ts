/**
 * A bounded queue that serves orgs in turn, so one org's flood cannot starve
 * another: each org has its own FIFO and its own cap, and dispatch rotates.
 */

/** Raised when a queue is full; callers fail fast instead of piling up. */
export class QueueFullError extends Error {}

/** Round-robin over per-org FIFOs. */
export class FairQueue<T> {
  private readonly queues = new Map<string, T[]>();
  private readonly order: string[] = [];
  private total = 0;

  constructor(
    private readonly perOrgCap: number,
    private readonly totalCap: number,
  ) {}

  /** Enqueues or throws QueueFullError. */
  push(org: string, item: T): void {
    const q = this.queues.get(org) ?? [];
    if (q.length >= this.perOrgCap) throw new QueueFullError(`The sandbox is busy: this org already has ${this.perOrgCap} calls waiting; retry shortly`);
    if (this.total >= this.totalCap) throw new QueueFullError(`The sandbox is busy: ${this.totalCap} calls are waiting; retry shortly`);
    if (!this.queues.has(org)) {
      this.queues.set(org, q);
      this.order.push(org);
    }
    q.push(item);
    this.total++;
  }

  /** The next item, taking orgs in turn. */
  shift(): T | undefined {
    while (this.order.length) {
      const org = this.order.shift()!;
      const q = this.queues.get(org)!;
      const item = q.shift();
      if (q.length) this.order.push(org);
      else this.queues.delete(org);
      if (item !== undefined) {
        this.total--;
        return item;
      }
    }
    return undefined;
  }

  /** Removes an item still waiting (e.g. its caller cancelled); true when found. */
  remove(org: string, item: T): boolean {
    const q = this.queues.get(org);
    const i = q?.indexOf(item) ?? -1;
    if (!q || i < 0) return false;
    q.splice(i, 1);
    this.total--;
    return true;
  }

  get size(): number {
    return this.total;
  }
}
