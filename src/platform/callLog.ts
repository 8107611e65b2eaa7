/**
 * The call log: each hosted tool call's server, tool, end user, status, duration,
 * input/output as the tool's outputPolicy allows, and console output. Records are
 * queued and written in batches, off the hot path of tools/call; a batch that fails
 * is retried row by row, and a row that still fails is kept in a reduced form.
 */
import { and, desc, eq, inArray, lt, sql, type SQL } from "drizzle-orm";
import { calls, orgs, servers } from "../../db/schema.ts";
import type { Database, Db } from "../database/index.ts";
import type { CallRecord } from "../hosted/catalog.ts";
import { DEFAULT_JSON_DEPTH } from "../jsonDepth.ts";
import { CALLS_TABLE, callRow, copyText, COPY_COLUMNS, insertBatch, reducedRow, rowBytes, type CallRow } from "./callRow.ts";

/** What the call log did with its rows since start (for /metrics): nothing it drops goes uncounted. */
export interface CallLogStats {
  /** Rows stored. */
  written: number;
  /** Batch writes that failed (their rows were then tried one by one). */
  batchFailures: number;
  /** Rows stored in a reduced form (a note in place of their values) after their full form failed. */
  reduced: number;
  /** Rows that could not be stored even reduced (each also logged as an error). */
  dropped: number;
}

/** Settings of a call log. */
export interface CallLogOptions {
  /** Told of every write that failed, with what became of the rows. */
  onError(err: unknown, detail: { rows: number; outcome: "retried" | "reduced" | "dropped" }): void;
  /** Values nested deeper are logged as a note (DZX_MAX_JSON_DEPTH). */
  maxJsonDepth?: number;
  /**
   * Rows of one write (default 200). Each write runs on the main thread on PGlite (~8–20 µs a
   * row), so a large one stalls every request behind it: batches of 1000 doubled hosted
   * tools/call's p99 against 200 (bench/RESULTS.md). Readers see unflushed rows anyway
   * (dwizi.calls.list and usage flush first).
   */
  batch?: number;
  /** A batch is written after this long even when not full. */
  flushMs?: number;
  /** Retained inputs and outputs can be large: a batch also ends at this many bytes of them. */
  batchBytes?: number;
}

/** Batches call records into the database. */
export class CallLog {
  readonly stats: CallLogStats = { written: 0, batchFailures: 0, reduced: 0, dropped: 0 };
  private buffer: CallRow[] = [];
  private bufferedBytes = 0;
  private timer: Timer | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private readonly opts: Required<CallLogOptions>;

  constructor(
    private readonly database: Pick<Database, "db" | "copyIn">,
    opts: CallLogOptions,
  ) {
    this.opts = { maxJsonDepth: DEFAULT_JSON_DEPTH, batch: 200, flushMs: 1000, batchBytes: 4 * 1024 * 1024, ...opts };
  }

  /** Queues one record; never blocks the caller. */
  record(r: CallRecord): void {
    try {
      this.enqueue(r);
    } catch (err) {
      // a fault in the log must not fail the call it describes
      this.stats.dropped++;
      this.opts.onError(err, { rows: 1, outcome: "dropped" });
    }
  }

  private enqueue(r: CallRecord): void {
    const row = callRow(r, this.opts.maxJsonDepth);
    this.bufferedBytes += rowBytes(row);
    this.buffer.push(row);
    if (this.buffer.length >= this.opts.batch || this.bufferedBytes >= this.opts.batchBytes) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.opts.flushMs);
  }

  /** Writes what is queued. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const rows = this.buffer;
    this.buffer = [];
    this.bufferedBytes = 0;
    if (rows.length === 0) return this.flushing;
    this.flushing = this.flushing.then(() => this.store(rows));
    return this.flushing;
  }

  private write(rows: CallRow[]): Promise<unknown> {
    const { db, copyIn } = this.database;
    return copyIn ? copyIn(CALLS_TABLE, COPY_COLUMNS, copyText(rows)) : db.execute(insertBatch(rows));
  }

  /** Writes a batch; when it fails, each row alone, then reduced: one bad record never costs another. */
  private async store(rows: CallRow[]): Promise<void> {
    try {
      await this.write(rows);
      this.stats.written += rows.length;
      return;
    } catch (err) {
      this.stats.batchFailures++;
      this.opts.onError(err, { rows: rows.length, outcome: "retried" });
    }
    for (const row of rows) {
      try {
        await this.write([row]);
        this.stats.written++;
        continue;
      } catch (err) {
        try {
          await this.write([reducedRow(row, (err as Error)?.message ?? String(err))]);
          this.stats.written++;
          this.stats.reduced++;
          this.opts.onError(err, { rows: 1, outcome: "reduced" });
        } catch (again) {
          this.stats.dropped++;
          this.opts.onError(again, { rows: 1, outcome: "dropped" });
        }
      }
    }
  }
}

/** Which of the org's calls a reader asks about: one server's, one workspace's (a workspace key's), or all. */
export interface CallScope {
  serverId?: string;
  workspaceId?: string | null;
}

/** The condition selecting the calls of `orgId` within `scope`. */
export function inCallScope(orgId: string, scope: CallScope): SQL | undefined {
  return and(
    eq(calls.orgId, orgId),
    scope.serverId ? eq(calls.serverId, scope.serverId) : undefined,
    // deleted servers included: their calls still belong to the workspace
    scope.workspaceId ? inArray(calls.serverId, sql`(select ${servers.id} from ${servers} where ${servers.workspaceId} = ${scope.workspaceId})`) : undefined,
  );
}

/** Recent calls of the org, newest first, within `scope`. */
export async function listCalls(db: Db, orgId: string, opts: CallScope & { limit: number; before?: Date }) {
  const rows = await db
    .select()
    .from(calls)
    .where(and(inCallScope(orgId, opts), opts.before ? lt(calls.at, opts.before) : undefined))
    .orderBy(desc(calls.at), desc(calls.id))
    .limit(opts.limit);
  return rows.map((r) => ({
    id: r.id,
    serverId: r.serverId,
    toolId: r.toolId,
    toolName: r.toolName,
    endUserId: r.endUserId,
    status: r.status,
    durationMs: r.durationMs,
    input: r.input,
    output: r.output,
    error: r.error,
    logs: r.logs,
    bytes: r.bytes,
    at: r.at.toISOString(),
  }));
}

/** Default days a call is kept when the org sets no `retentionDays` (SPEC "Operations": 1–90, default 30). */
export const DEFAULT_RETENTION_DAYS = 30;

/** Deletes calls older than their org's retention window; returns how many went. */
export async function pruneCalls(db: Db, now: Date = new Date()): Promise<number> {
  const days = sql`coalesce((${orgs.limits} ->> 'retentionDays')::int, ${DEFAULT_RETENTION_DAYS})`;
  const gone = await db
    .delete(calls)
    .where(sql`${calls.at} < ${now.toISOString()}::timestamptz - make_interval(days => (select ${days} from ${orgs} where ${orgs.id} = ${calls.orgId}))`)
    .returning({ id: calls.id });
  return gone.length;
}
