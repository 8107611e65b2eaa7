/**
 * A call record as the row the call log stores: its values as JSON text under the
 * tool's outputPolicy, secret values redacted, nothing nested past the JSON bound,
 * and the two ways a batch of rows is written (COPY on PGlite, one INSERT elsewhere).
 */
import { getTableColumns, getTableName, sql } from "drizzle-orm";
import { calls } from "../../db/schema.ts";
import type { CallRecord } from "../hosted/catalog.ts";
import { textTooDeep, tooDeepMessage } from "../jsonDepth.ts";
import { Redactor } from "../redaction.ts";

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

/** A note kept in place of a value the log cannot hold. */
function note(why: string): string {
  return JSON.stringify(`[not logged: ${why}]`);
}

/**
 * The JSON text the log keeps of a call's value under its policy, secrets redacted. A value
 * that cannot be serialized (nested past the stack's depth) or nests past the JSON bound is
 * logged as a note saying so: the call itself still appears, and no driver is handed a value
 * it chokes on (PGlite spins on JSON ~12,000 deep; PostgreSQL fails the whole statement).
 */
function loggedText(value: unknown, policy: CallRecord["outputPolicy"], maxDepth: number, redactor: Redactor | null): string | null {
  let text: string | null;
  try {
    text = jsonText(keep(value, policy));
  } catch (err) {
    return note(`the value could not be serialized (${(err as Error)?.message ?? String(err)})`);
  }
  if (text === null) return null;
  if (textTooDeep(text, maxDepth)) return note(tooDeepMessage("the value", maxDepth));
  // redacted from the parsed text, not the value: the text is the one thing known to be bounded
  return redactor?.inJson(text) ? jsonText(redactor.value(JSON.parse(text))) : text;
}

const COLUMNS = Object.entries(getTableColumns(calls)).map(([key, col]) => ({ key, name: col.name, json: col.getSQLType() === "json", type: col.getSQLType() }));

/** A queued row, its json columns already JSON text: each value is serialized once, here, whichever way it is written. */
export type CallRow = Omit<typeof calls.$inferInsert, "input" | "output" | "logs"> & { input: string | null; output: string | null; logs: string };

/** The row for one record. */
export function callRow(r: CallRecord, maxDepth: number): CallRow {
  const redactor = r.secrets?.length ? Redactor.of(r.secrets) : null;
  const outputJson = loggedText(r.output, r.outputPolicy, maxDepth, redactor);
  const inputJson = loggedText(r.input, r.outputPolicy, maxDepth, redactor);
  // console lines were redacted in the sandbox; a line naming a secret another way is caught here
  const logsJson = loggedText(r.outputPolicy === "omit" ? [] : r.logs, "retain", maxDepth, redactor) ?? "[]";
  const error = r.error === null ? null : r.error.replaceAll("\u0000", "\uFFFD");
  return {
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
    error: error && redactor ? redactor.text(error) : error,
    logs: logsJson,
    bytes: outputJson?.length ?? 0,
    at: new Date(),
  };
}

/** A row that could not be written, cut to what any database takes: who, what, when and how it ended, a note for the rest. */
export function reducedRow(row: CallRow, why: string): CallRow {
  const n = note(`the record could not be written (${why.slice(0, 200).replace(/[\u0000-\u001f]/g, " ")})`);
  return { ...row, input: n, output: n, error: row.error ? row.error.slice(0, 1000) : null, logs: "[]" };
}

/** Bytes of retained values a row holds (a batch ends past a byte budget). */
export function rowBytes(row: CallRow): number {
  return (row.input?.length ?? 0) + (row.output?.length ?? 0) + row.logs.length;
}

/**
 * One INSERT for a batch, its rows passed as a single jsonb parameter: far less work
 * per row than binding every column of every row (the column list comes from the schema).
 */
export function insertBatch(rows: CallRow[]) {
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
export function copyText(rows: CallRow[]): string {
  let out = "";
  for (const r of rows) {
    for (let i = 0; i < COLUMNS.length; i++) out += (i ? "\t" : "") + copyValue(r[COLUMNS[i].key as keyof CallRow]);
    out += "\n";
  }
  return out;
}

/** The table COPY writes into. */
export const CALLS_TABLE = getTableName(calls);
/** The columns of a COPY, in the order copyText writes them. */
export const COPY_COLUMNS = COLUMNS.map((c) => c.name);
