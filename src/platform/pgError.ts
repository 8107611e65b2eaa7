/**
 * Recognises Postgres errors through drizzle's wrapping, on either driver.
 */

/** The SQLSTATE of a database error (or of its cause), if any. */
export function sqlState(err: unknown): string | undefined {
  for (let e: any = err, i = 0; e && i < 4; e = e.cause, i++) {
    if (typeof e.code === "string" && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
  }
  return undefined;
}

/** Whether the error is a unique-constraint violation. */
export function isUniqueViolation(err: unknown): boolean {
  return sqlState(err) === "23505";
}
