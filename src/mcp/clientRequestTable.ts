/**
 * Server→client requests (`elicitation/create`, `sampling/createMessage`) on the
 * initialize lane: a session's table of requests sent and not yet answered. The
 * transport sends each request where the client reads (the call's SSE stream, the
 * session's GET stream, a legacy SSE stream); the client POSTs its response on the
 * session, and the matching entry settles. Transport-free.
 */
import type { CancelSignal } from "./cancellation.ts";
import { ClientRequestError } from "./clientRequest.ts";
import type { RpcClientResponse } from "./jsonrpc.ts";

/** What one waiting request needs when it settles. */
interface Waiting {
  resolve(result: Record<string, unknown>): void;
  fail(err: ClientRequestError, tellClient: boolean): void;
}

/** Why a wait was abandoned, in words: the reason of the signal that ended it. */
function abandoned(reason: unknown): ClientRequestError {
  const why = reason instanceof Error ? reason.message : typeof reason === "string" ? reason : "the request was aborted";
  return new ClientRequestError(`The request to the client was abandoned: ${why}`);
}

/** Prefix of the ids dzx gives its requests: a client can tell them from its own, and they never repeat within a session. */
const ID_PREFIX = "dzx-";

/** The requests one session has sent to its client and awaits answers to. */
export class ClientRequestTable {
  private next = 0;
  private readonly waiting = new Map<string, Waiting>();

  /**
   * Sends `method` through `send` under a fresh id and resolves with the client's result.
   * Rejects with ClientRequestError when the client answers an error, or when `call` (the
   * tool call it belongs to) or `signal` aborts first; then the client is told the request
   * is cancelled. `send` returns false when the message could not be written.
   */
  ask(send: (message: Record<string, unknown>) => unknown, method: string, params: Record<string, unknown>, call?: CancelSignal, signal?: AbortSignal): Promise<Record<string, unknown>> {
    if (call?.aborted) return Promise.reject(abandoned(call.reason));
    if (signal?.aborted) return Promise.reject(abandoned(signal.reason));
    const id = `${ID_PREFIX}${++this.next}`;
    return new Promise((resolve, reject) => {
      const onCall = () => entry.fail(abandoned(call!.reason), true);
      const onSignal = () => entry.fail(abandoned(signal!.reason), true);
      const done = () => {
        this.waiting.delete(id);
        call?.removeEventListener("abort", onCall);
        signal?.removeEventListener("abort", onSignal);
      };
      const entry: Waiting = {
        resolve: (result) => {
          done();
          resolve(result);
        },
        fail: (err, tellClient) => {
          done();
          // the client may still be showing the question: tell it the answer is no longer wanted
          if (tellClient) send({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: id, reason: err.message } });
          reject(err);
        },
      };
      this.waiting.set(id, entry);
      call?.addEventListener("abort", onCall, { once: true });
      signal?.addEventListener("abort", onSignal, { once: true });
      send({ jsonrpc: "2.0", id, method, params });
    });
  }

  /** Settles the request a client's response names; false when none waits under that id (the response is ignored). */
  settle(response: RpcClientResponse): boolean {
    const entry = this.waiting.get(String(response.id));
    if (!entry) return false;
    if (response.error !== undefined) {
      const e = (typeof response.error === "object" && response.error !== null ? response.error : {}) as { code?: unknown; message?: unknown; data?: unknown };
      const message = typeof e.message === "string" && e.message ? e.message : "the client answered with an error";
      entry.fail(new ClientRequestError(`The client refused the request: ${message}`, typeof e.code === "number" ? e.code : undefined, e.data), false);
    } else if (typeof response.result !== "object" || response.result === null || Array.isArray(response.result)) {
      entry.fail(new ClientRequestError("The client's answer is not a result object"), false);
    } else entry.resolve(response.result as Record<string, unknown>);
    return true;
  }

  /** Rejects every waiting request (the session ended); the client is not told, it is gone. */
  rejectAll(reason: string): void {
    for (const entry of [...this.waiting.values()]) entry.fail(new ClientRequestError(`The request to the client was abandoned: ${reason}`), false);
  }

  /** Requests waiting for an answer. */
  get size(): number {
    return this.waiting.size;
  }
}
