/**
 * Structured JSON logs, one object per line on stderr. Callers pass ids and
 * names only; secrets, keys and tokens are never handed to the logger.
 */

const ORDER = { debug: 10, info: 20, warn: 30, error: 40 } as const;

/** A log level. */
export type LogLevel = keyof typeof ORDER;

/** Writes structured log lines at or above a level. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

function errorFields(v: unknown): unknown {
  if (v instanceof Error) return { name: v.name, message: v.message, stack: v.stack };
  return v;
}

/** A logger writing JSON lines to `write` (default: stderr). */
export function createLogger(level: LogLevel, write: (line: string) => void = (l) => process.stderr.write(l + "\n")): Logger {
  const at = (lvl: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < ORDER[level]) return;
    const rec: Record<string, unknown> = { time: new Date().toISOString(), level: lvl, msg };
    if (fields) for (const [k, v] of Object.entries(fields)) rec[k] = errorFields(v);
    write(JSON.stringify(rec));
  };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
