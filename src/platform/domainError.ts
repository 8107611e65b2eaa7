/**
 * Domain errors: a string code that never crosses the wire as a JSON-RPC code.
 * Each surface maps the code once (HTTP status table below; MCP as an isError result).
 */

/** Every code a management operation may fail with. */
export type DomainCode =
  | "VALIDATION_ERROR"
  | "NOT_FOUND"
  | "DUPLICATE"
  | "ALIAS_CONFLICT"
  | "CONFLICT"
  | "MISSING_SECRET"
  | "QUOTA_EXCEEDED"
  | "FORBIDDEN_SCOPE"
  | "UNAUTHORIZED"
  | "RATE_LIMITED"
  | "PAYLOAD_TOO_LARGE"
  | "UNAVAILABLE"
  | "INTERNAL";

/** HTTP status per code; a Record so a missing mapping fails to compile. */
export const httpStatusOf: Record<DomainCode, number> = {
  VALIDATION_ERROR: 400,
  NOT_FOUND: 404,
  DUPLICATE: 409,
  ALIAS_CONFLICT: 409,
  // the request is fine but the target's state forbids it (a workspace that still has servers)
  CONFLICT: 409,
  // the request is fine; the org has yet to set what the tool reads
  MISSING_SECRET: 409,
  QUOTA_EXCEEDED: 403,
  FORBIDDEN_SCOPE: 403,
  UNAUTHORIZED: 401,
  RATE_LIMITED: 429,
  PAYLOAD_TOO_LARGE: 413,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** A failure the caller can act on; its message is safe to show. */
export class DomainError extends Error {
  constructor(
    readonly code: DomainCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "DomainError";
  }

  /** The `{code, message}` body both surfaces send. */
  toJSON(): { code: DomainCode; message: string; details?: Record<string, unknown> } {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }
}

/** Shorthand for the most common failure. */
export function notFound(kind: string, ref: string): DomainError {
  return new DomainError("NOT_FOUND", `${kind} "${ref}" not found`);
}

/** Shorthand for a bad argument. */
export function invalid(message: string, details?: Record<string, unknown>): DomainError {
  return new DomainError("VALIDATION_ERROR", message, details);
}
