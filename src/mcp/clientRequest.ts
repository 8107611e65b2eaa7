/**
 * The error a server→client request (`CallContext.ask`) rejects with.
 */

/** The client answered with an error (its `code` and `data` kept), or the wait was given up: session end, cancellation, abort. */
export class ClientRequestError extends Error {
  constructor(
    message: string,
    readonly code?: number,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = "ClientRequestError";
  }
}
