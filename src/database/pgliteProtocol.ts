/**
 * Messages between the main thread and the thread that owns the embedded
 * database (pgliteThread.ts). Every request carries an id; the answer echoes it.
 * `tx` names an open transaction: its queries run inside it, in order.
 */
export type ToPglite =
  | { id: number; op: "open"; dataDir: string; migrationsFolder: string }
  | { id: number; op: "query"; sql: string; params: unknown[]; rowMode: "array" | "object"; tx?: number }
  | { id: number; op: "begin" }
  | { id: number; op: "end"; tx: number; commit: boolean }
  | { id: number; op: "copy"; sql: string; text: string }
  | { id: number; op: "close" };

/** A database error as plain data (structured clone drops an Error's own fields). */
export interface PgliteFault {
  message: string;
  name?: string;
  code?: string;
  detail?: string;
  constraint?: string;
  table?: string;
  column?: string;
  severity?: string;
}

export type FromPglite = { id: number; ok: true; value: unknown } | { id: number; ok: false; fault: PgliteFault };

const FIELDS = ["name", "code", "detail", "constraint", "table", "column", "severity"] as const;

/** Flattens an error for postMessage. */
export function toFault(err: unknown): PgliteFault {
  const e = err as Record<string, unknown>;
  const fault: PgliteFault = { message: err instanceof Error ? err.message : String(err) };
  for (const k of FIELDS) if (typeof e?.[k] === "string") fault[k] = e[k] as string;
  return fault;
}

/** Rebuilds an Error carrying the fields pgError.ts reads (SQLSTATE `code` above all). */
export function fromFault(fault: PgliteFault): Error {
  const err = new Error(fault.message);
  for (const k of FIELDS) if (fault[k] !== undefined) (err as unknown as Record<string, unknown>)[k] = fault[k];
  return err;
}
