/**
 * Questions calls put to their clients (`context.elicit`, `context.sample`) on
 * their way from a worker to the call's `onAsk`: each waits at most its own limit
 * (DZX_ELICIT_TIMEOUT_MS, not the tool's timeout: a person may take minutes), one
 * org may have a bounded number of calls asking at once (parked calls hold memory),
 * and a call that ends withdraws the questions it still waits on.
 */
import { ASK_METHODS, type AskMethod } from "./askRequest.ts";
import type { CallRequest } from "./callRequest.ts";

/** A call's questions in flight. */
export type Questions = Set<AbortController>;

/** Relays the questions of every call of one pool. */
export class AskRelay {
  /** Calls with a question in flight, per org. */
  private readonly asking = new Map<string, number>();
  private count = 0;

  constructor(
    private readonly timeoutMs: number,
    private readonly maxPerOrg: number,
  ) {}

  /** Calls with a question in flight, across orgs. */
  get size(): number {
    return this.count;
  }

  /** Sends one question of a call (`questions`: that call's in flight); rejects with an error naming the problem. */
  ask(req: CallRequest, questions: Questions, method: string, params: Record<string, unknown>): Promise<unknown> {
    const fn = ASK_METHODS[method as AskMethod] ?? method;
    if (!req.onAsk) return Promise.reject(new Error(`${fn}: this call has no client to ask`));
    if (req.signal?.aborted) return Promise.reject(new Error(`${fn}: the call was cancelled`));
    const org = req.orgId;
    if (questions.size === 0) {
      const n = this.asking.get(org) ?? 0;
      if (n >= this.maxPerOrg) {
        return Promise.reject(new Error(`${fn}: refused: this org already has ${this.maxPerOrg} calls waiting for their clients (DZX_ELICIT_MAX_WAITING); try again once some are answered`));
      }
      this.asking.set(org, n + 1);
      this.count++;
    }
    const question = new AbortController();
    questions.add(question);
    let timer: Timer | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`${fn}: the client did not answer within ${this.timeoutMs} ms (DZX_ELICIT_TIMEOUT_MS)`));
        question.abort(new Error("the client did not answer in time"));
      }, this.timeoutMs);
    });
    const cancelled = () => question.abort(new Error("the call was cancelled"));
    req.signal?.addEventListener("abort", cancelled, { once: true });
    return Promise.race([req.onAsk(method, params, question.signal), timedOut]).finally(() => {
      clearTimeout(timer);
      req.signal?.removeEventListener("abort", cancelled);
      this.settle(org, questions, question);
    });
  }

  /** The call ended: what it still asks is withdrawn (an answer that comes later goes nowhere). */
  end(req: CallRequest, questions: Questions): void {
    for (const q of [...questions]) {
      q.abort(new Error("the call ended"));
      this.settle(req.orgId, questions, q);
    }
  }

  private settle(org: string, questions: Questions, question: AbortController): void {
    if (!questions.delete(question) || questions.size > 0) return;
    const n = (this.asking.get(org) ?? 1) - 1;
    if (n > 0) this.asking.set(org, n);
    else this.asking.delete(org);
    this.count--;
  }
}
