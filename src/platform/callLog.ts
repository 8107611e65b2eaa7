/**
 * The call log: each hosted tool call's server, tool, end user, status, duration,
 * input/output as the tool's outputPolicy allows, and console output. Records are
 * queued and written in batches, off the hot path of tools/call.
 */
import { and, desc, eq, getTableColumns, getTableName, lt, sql } from "drizzle-orm";
import { calls, orgs } from "../../db/schema.ts";
import type { Database, Db } from "../database/index.ts";
import type { CallRecord } from "../hosted/catalog.ts";

const MASK = "***";

/** The same shape with every leaf value masked (outputPolicy "obfuscate"). */
export function obfuscate(value: unknown): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (Array.isArray(value)) return value.map(obfuscate);
  if (typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, obfuscate(v)]));
  return MASK;
}

/** What the log keeps of a value under a policy. */
export function keep(value: unknown, policy: CallRecord["outputPolicy"]): unknown {
  if (value === undefined || policy === "omit") return null;
  return policy === "obfuscate" ? obfuscate(value) : value;
}

/**
 * A value as the JSON text the log keeps, null staying SQL NULL. An escaped U+0000
 * becomes U+FFFD: PostgreSQL's text and jsonb refuse it (a json column takes the
 * escape, but casting the log to jsonb or text would then fail). An escaped
 * backslash followed by "u0000" is text, not the character, and is left alone.
 */
function jsonText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const json = JSON.stringify(value);
  return json.includes("\\u0000") ? json.replace(/(\\*)\\u0000/g, (m, slashes: string) => (slashes.length % 2 ? m : `${slashes}\\ufffd`)) : json;
}

/**
 * The JSON text the log keeps of a call's value under its policy. A value that cannot be
 * serialized (nested past the stack's depth: a client may send such input) is logged as a
 * note saying so, so that the call itself still appears in the log.
 */
function loggedText(value: unknown, policy: CallRecord["outputPolicy"]): string | null {
  try {
    return jsonText(keep(value, policy));
  } catch (err) {
    return JSON.stringify(`[not logged: the value could not be serialized (${(err as Error)?.message ?? String(err)})]`);
  }
}

const COLUMNS = Object.entries(getTableColumns(calls)).map(([key, col]) => ({ key, name: col.name, json: col.getSQLType() === "json", type: col.getSQLType() }));

/** A queued row, its json columns already JSON text: each value is serialized once, here, whichever way it is written. */
type Row = Omit<typeof calls.$inferInsert, "input" | "output" | "logs"> & { input: string | null; output: string | null; logs: string };

/**
 * One INSERT for a batch, its rows passed as a single jsonb parameter: far less work
 * per row than binding every column of every row (the column list comes from the schema).
 */
function insertBatch(rows: Row[]) {
  const names = sql.raw(COLUMNS.map((c) => `"${c.name}"`).join(", "));
  const record = sql.raw(COLUMNS.map((c) => `"${c.key}" ${c.json ? "text" : c.type}`).join(", "));
  const values = sql.raw(COLUMNS.map((c) => (c.json ? `"${c.key}"::json` : `"${c.key}"`)).join(", "));
  return sql`insert into ${calls} (${names}) select ${values} from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(${record})`;
}

const COPY_SPECIAL = /[\\\t\n\r\0]/;

/** One value in COPY's text format: `\\N` for null, the special characters escaped (text may not hold U+0000). */
function copyValue(v: unknown): string {
  if (v === null || v === undefined) return "\\N";
  const text = typeof v === "string" ? v : v instanceof Date ? v.toISOString() : String(v);
  // most values (ids, names, numbers) need no escaping: test before paying for a replace
  if (!COPY_SPECIAL.test(text)) return text;
  return text.replace(/[\\\t\n\r\0]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : c === "\r" ? "\\r" : "\uFFFD"));
}

/** A batch in COPY's text format, columns in COPY_COLUMNS order. */
function copyText(rows: Row[]): string {
  let out = "";
  for (const r of rows) {
    for (let i = 0; i < COLUMNS.length; i++) out += (i ? "\t" : "") + copyValue(r[COLUMNS[i].key as keyof Row]);
    out += "\n";
  }
  return out;
}

const TABLE = getTableName(calls);
const COPY_COLUMNS = COLUMNS.map((c) => c.name);

/** Batches call records into the database. */
export class CallLog {
  private buffer: Row[] = [];
  private bufferedBytes = 0;
  private timer: Timer | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly database: Pick<Database, "db" | "copyIn">,
    private readonly onError: (err: unknown) => void,
    // on PGlite every row costs the main thread: ~20 µs each in batches of 200, ~12 in batches
    // of 1000; readers see unflushed rows anyway (dwizi.calls.list and usage flush first)
    private readonly flushMs = 1000,
    private readonly batch = 1000,
    /** Retained inputs and outputs can be large: a batch also ends at this many bytes of them. */
    private readonly batchBytes = 4 * 1024 * 1024,
  ) {}

  /** Queues one record; never blocks the caller. */
  record(r: CallRecord): void {
    try {
      this.enqueue(r);
    } catch (err) {
      this.onError(err); // a fault in the log must not fail the call it describes
    }
  }

  private enqueue(r: CallRecord): void {
    const outputJson = loggedText(r.output, r.outputPolicy);
    const inputJson = loggedText(r.input, r.outputPolicy);
    const logsJson = jsonText(r.outputPolicy === "omit" ? [] : r.logs) ?? "[]";
    this.bufferedBytes += (inputJson?.length ?? 0) + (outputJson?.length ?? 0) + logsJson.length;
    this.buffer.push({
      // time-ordered: appends to the primary key's index instead of splitting pages at random
      id: Bun.randomUUIDv7(),
      orgId: r.orgId,
      serverId: r.serverId,
      toolId: r.toolId,
      toolName: r.toolName,
      endUserId: r.endUserId,
      status: r.status,
      durationMs: Math.round(r.durationMs),
      input: inputJson,
      output: outputJson,
      error: r.error === null ? null : r.error.replaceAll("\u0000", "\uFFFD"),
      logs: logsJson,
      bytes: outputJson?.length ?? 0,
      at: new Date(),
    });
    if (this.buffer.length >= this.batch || this.bufferedBytes >= this.batchBytes) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  /** Writes what is queued. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const rows = this.buffer;
    this.buffer = [];
    this.bufferedBytes = 0;
    if (rows.length === 0) return this.flushing;
    const { db, copyIn } = this.database;
    const write = () => (copyIn ? copyIn(TABLE, COPY_COLUMNS, copyText(rows)) : db.execute(insertBatch(rows)));
    this.flushing = this.flushing.then(() => write().then(() => undefined, this.onError));
    return this.flushing;
  }
}

/** Recent calls of the org, newest first, optionally of one server. */
export async function listCalls(db: Db, orgId: string, opts: { serverId?: string; limit: number; before?: Date }) {
  const rows = await db
    .select()
    .from(calls)
    .where(
      and(
        eq(calls.orgId, orgId),
        opts.serverId ? eq(calls.serverId, opts.serverId) : undefined,
        opts.before ? lt(calls.at, opts.before) : undefined,
      ),
    )
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
