/**
 * One round of a multi round-trip tools/call (SEP-2322, the 2026-07-28 lane, which
 * has no server→client requests). The tool runs from the top every round; its
 * questions are answered in order from the client's earlier answers (the sealed
 * requestState plus this retry's inputResponses). The first question with no answer
 * ends the round: the call is stopped, and the client gets `resultType:
 * "input_required"` with that question and a new sealed state. So the code before a
 * question runs once per round.
 */
import { Cancellation, type CancelSignal } from "./cancellation.ts";
import type { CallContext } from "./catalog.ts";
import { RpcCode, RpcError } from "./jsonrpc.ts";
import type { RecordedAnswer, RequestStateSeal, StateBinding } from "./requestState.ts";

/** Questions one call may ask on this lane (the official client gives up after 10 rounds). */
export const MAX_QUESTIONS = 32;

/** Why a round's call was stopped: it asked what the client has not answered yet. */
export class RoundEnded extends Error {
  constructor() {
    super("The round ended on a question to the client (input_required); the client's retry runs the tool again");
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The key of the n-th question in inputRequests / inputResponses. */
const keyOf = (n: number) => `q${n}`;

/** Why an answer cannot stand for a result of `method`, or undefined. */
function answerProblem(method: string, answer: Record<string, unknown>): string | undefined {
  if (method === "elicitation/create" && !["accept", "decline", "cancel"].includes(answer.action as string)) return `an elicitation result needs "action": "accept", "decline" or "cancel"`;
  if (method === "sampling/createMessage" && (!isObject(answer.content) && !Array.isArray(answer.content))) return `a sampling result needs "content"`;
  return undefined;
}

/** A tools/call round on the 2026-07-28 lane. */
export class InputRound {
  private asked = 0;
  private question?: { key: string; method: string; params: Record<string, unknown> };
  /** The round's call runs under this: the request's own signal, and the round's end. */
  private readonly stop = new Cancellation();

  private constructor(
    private readonly answers: RecordedAnswer[],
    private readonly binding: StateBinding,
    private readonly seal: RequestStateSeal,
    outer: CancelSignal,
  ) {
    if (outer.aborted) this.stop.abort(outer.reason);
    else outer.addEventListener("abort", () => this.stop.abort(outer.reason), { once: true });
  }

  /** The round a tools/call's params describe; a state or answers that cannot be used are invalid params. */
  static open(params: Record<string, unknown>, binding: StateBinding, seal: RequestStateSeal, outer: CancelSignal): InputRound {
    const { requestState, inputResponses } = params;
    if (inputResponses !== undefined && !isObject(inputResponses)) {
      throw new RpcError(RpcCode.InvalidParams, `Invalid params: inputResponses must be an object of the client's results, keyed as inputRequests was`);
    }
    if (requestState === undefined) {
      if (inputResponses !== undefined && Object.keys(inputResponses).length > 0) {
        throw new RpcError(RpcCode.InvalidParams, "Invalid params: inputResponses came without the requestState of the input_required result they answer");
      }
      return new InputRound([], binding, seal, outer);
    }
    const state = seal.open(requestState, binding);
    const key = keyOf(state.answers.length);
    const answer = (inputResponses as Record<string, unknown> | undefined)?.[key];
    if (!isObject(answer)) {
      throw new RpcError(RpcCode.InvalidParams, `Invalid params: inputResponses["${key}"] must hold the client's answer to the ${state.pending} request the last round ended on`);
    }
    const problem = answerProblem(state.pending, answer);
    if (problem) throw new RpcError(RpcCode.InvalidParams, `Invalid params: inputResponses["${key}"]: ${problem}`);
    return new InputRound([...state.answers, { method: state.pending, result: answer }], binding, seal, outer);
  }

  /** The call's context for this round: its questions go to the round (under the capabilities the request declared). */
  context(ctx: CallContext): CallContext {
    return {
      requestId: ctx.requestId,
      sessionId: ctx.sessionId,
      signal: this.stop,
      progress: ctx.progress,
      log: ctx.log,
      clientCapabilities: ctx.clientCapabilities,
      ask: (method, params) => this.ask(method, params),
    };
  }

  /** The n-th question gets the n-th answer; the first unanswered one ends the round (its promise never settles: the call is stopped). */
  private async ask(method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    const n = this.asked++;
    const recorded = this.answers[n];
    if (recorded) {
      if (recorded.method !== method) {
        throw new Error(`this round asks ${method} where the last one asked ${recorded.method}: on this lane the code before a question must ask the same things in the same order every round`);
      }
      return recorded.result;
    }
    if (n >= MAX_QUESTIONS) throw new Error(`a call may ask its client at most ${MAX_QUESTIONS} questions`);
    if (!this.question) {
      this.question = { key: keyOf(n), method, params };
      this.stop.abort(new RoundEnded());
    }
    return new Promise(() => {});
  }

  /** The input_required result when the round ended on a question; undefined when the call ran to its end. */
  result(): Record<string, unknown> | undefined {
    const q = this.question;
    if (!q) return undefined;
    return {
      resultType: "input_required",
      inputRequests: { [q.key]: { method: q.method, params: q.params } },
      requestState: this.seal.seal(this.binding, { answers: this.answers, pending: q.method }),
    };
  }
}
