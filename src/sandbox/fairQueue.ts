/**
 * A bounded queue that serves orgs in turn, so one org's flood cannot starve
 * another: each org has its own FIFO and its own cap, and the org served least
 * recently goes next. "Recently" survives an org's FIFO running empty while one
 * of its items is held (taken ahead to a worker): that org was just served.
 */

/** Raised when a queue is full; callers fail fast instead of piling up. */
export class QueueFullError extends Error {}

/** Round-robin over per-org FIFOs. */
export class FairQueue<T> {
  private readonly queues = new Map<string, T[]>();
  /** When each org with items (waiting or held) was last served. */
  private readonly served = new Map<string, number>();
  private tick = 0;
  private total = 0;
  /** Items taken out but not yet running (queued inside a worker): they still count against the caps. */
  private readonly held = new Map<string, number>();
  private heldTotal = 0;

  constructor(
    private readonly perOrgCap: number,
    private readonly totalCap: number,
  ) {}

  /** Enqueues or throws QueueFullError. */
  push(org: string, item: T): void {
    const q = this.queues.get(org) ?? [];
    if (q.length + (this.held.get(org) ?? 0) >= this.perOrgCap) throw new QueueFullError(`The sandbox is busy: this org already has ${this.perOrgCap} calls waiting; retry shortly`);
    if (this.total + this.heldTotal >= this.totalCap) throw new QueueFullError(`The sandbox is busy: ${this.totalCap} calls are waiting; retry shortly`);
    if (!this.queues.has(org)) this.queues.set(org, q);
    q.push(item);
    this.total++;
  }

  /** The held item started running or was taken back. */
  release(org: string): void {
    const n = (this.held.get(org) ?? 0) - 1;
    if (n > 0) this.held.set(org, n);
    else this.held.delete(org);
    this.heldTotal--;
    this.forget(org);
  }

  /** Puts an item back at the head (it was taken but could not run); caps do not apply, it was admitted once. */
  unshift(org: string, item: T): void {
    const q = this.queues.get(org);
    if (q) q.unshift(item);
    else this.queues.set(org, [item]);
    this.served.delete(org);
    this.total++;
  }

  /**
   * The next item: the head of the least recently served org (first come first
   * among equals). `hold`: it still counts as waiting, against the caps too, until
   * `release` (it goes to a worker's queue, not yet to run).
   */
  shift(hold = false): T | undefined {
    let org: string | undefined;
    let last = Infinity;
    for (const o of this.queues.keys()) {
      const t = this.served.get(o) ?? -1;
      if (t < last) [org, last] = [o, t];
    }
    if (org === undefined) return undefined;
    const q = this.queues.get(org)!;
    const item = q.shift()!;
    this.total--;
    this.served.set(org, ++this.tick);
    if (hold) {
      this.held.set(org, (this.held.get(org) ?? 0) + 1);
      this.heldTotal++;
    }
    if (!q.length) this.forget(org);
    return item;
  }

  /** Drops an org without items: its turn no longer matters. */
  private forget(org: string): void {
    if (this.queues.get(org)?.length === 0) this.queues.delete(org);
    if (!this.queues.has(org) && !this.held.has(org)) this.served.delete(org);
  }

  /** Removes an item still waiting (e.g. its caller cancelled); true when found. */
  remove(org: string, item: T): boolean {
    const q = this.queues.get(org);
    const i = q?.indexOf(item) ?? -1;
    if (!q || i < 0) return false;
    q.splice(i, 1);
    this.total--;
    this.forget(org);
    return true;
  }

  /** Items waiting, held ones included. */
  get size(): number {
    return this.total + this.heldTotal;
  }

  /** Items that `shift` can hand out. */
  get ready(): number {
    return this.total;
  }
}
