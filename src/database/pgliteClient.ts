/**
 * The main thread's handle on the embedded database thread (pgliteThread.ts):
 * the part of PGlite's API that drizzle's PGlite driver calls — query() and
 * transaction() — forwarded as messages, so drizzle, migrations and every
 * query in the platform stay as they were.
 */
import { workerEntries } from "../assets.ts";
import { fromFault, type FromPglite, type ToPglite } from "./pgliteProtocol.ts";

type Request = ToPglite extends infer M ? (M extends { id: number } ? Omit<M, "id"> : never) : never;

/** What query() answers: PGlite's Results shape. */
export interface QueryResult {
  rows: unknown[];
  affectedRows?: number;
  fields: { name: string; dataTypeID: number }[];
}

/** A queryable: the database, or one open transaction. */
export interface Queryable {
  query(sql: string, params?: unknown[], options?: { rowMode?: "array" | "object" }): Promise<QueryResult>;
}

export class PgliteClient implements Queryable {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private nextId = 1;
  private crashed?: Error;

  private constructor() {
    this.worker = new Worker(workerEntries.pglite);
    this.worker.onmessage = (event: MessageEvent<FromPglite>) => {
      const msg = event.data;
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(fromFault(msg.fault));
    };
    this.worker.onerror = (event) => this.fail(new Error(`the embedded database thread failed: ${event.message}`));
    this.worker.addEventListener("close", () => this.fail(new Error("the embedded database thread exited")));
  }

  /** Starts the thread, opens `dataDir` and applies migrations there. */
  static async open(dataDir: string, migrationsFolder: string): Promise<PgliteClient> {
    const client = new PgliteClient();
    try {
      await client.send({ op: "open", dataDir, migrationsFolder });
    } catch (e) {
      client.worker.terminate();
      throw e;
    }
    return client;
  }

  query(sql: string, params: unknown[] = [], options: { rowMode?: "array" | "object" } = {}): Promise<QueryResult> {
    return this.send({ op: "query", sql, params, rowMode: options.rowMode ?? "object" }) as Promise<QueryResult>;
  }

  /** Runs `fn` in a transaction; commits when it resolves, rolls back when it throws. */
  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const tx = (await this.send({ op: "begin" })) as number;
    const handle: Queryable = {
      query: (sql, params = [], options = {}) => this.send({ op: "query", sql, params, rowMode: options.rowMode ?? "object", tx }) as Promise<QueryResult>,
    };
    let value: T;
    try {
      value = await fn(handle);
    } catch (e) {
      await this.send({ op: "end", tx, commit: false }).catch(() => {});
      throw e;
    }
    await this.send({ op: "end", tx, commit: true });
    return value;
  }

  /** COPY … FROM '/dev/blob' with `text` as the blob. */
  async copy(sql: string, text: string): Promise<void> {
    await this.send({ op: "copy", sql, text });
  }

  async close(): Promise<void> {
    if (!this.crashed) await this.send({ op: "close" }).catch(() => {});
    this.worker.terminate();
  }

  private send(req: Request): Promise<unknown> {
    if (this.crashed) return Promise.reject(this.crashed);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...req, id } as ToPglite);
    });
  }

  private fail(err: Error): void {
    this.crashed ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
