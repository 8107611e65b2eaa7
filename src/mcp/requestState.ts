/**
 * The `requestState` of a multi round-trip request (SEP-2322, the 2026-07-28 lane):
 * the client's answers from earlier rounds, which the client carries between rounds.
 * dzx seals it with HMAC-SHA256 under a key derived from DZX_SECRET_KEY, so any dzx
 * process with that key opens it and no client can alter it; it is bound to the
 * server, the tool and the tool's arguments, and it expires. Sealed, not encrypted:
 * the client may read its own answers.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { RpcCode, RpcError } from "./jsonrpc.ts";

/** An answer the client gave to one question, in the order the questions were asked. */
export interface RecordedAnswer {
  method: string;
  result: Record<string, unknown>;
}

/** What a state is good for: one tool of one server, called with these arguments. */
export interface StateBinding {
  server: string;
  tool: string;
  args: Record<string, unknown>;
}

/** What a state holds: the answers so far and the method of the question it awaits an answer to. */
export interface RoundState {
  answers: RecordedAnswer[];
  pending: string;
}

interface Payload {
  v: 1;
  s: string;
  t: string;
  /** SHA-256 of the arguments' canonical JSON. */
  a: string;
  /** Expiry, ms since the epoch. */
  exp: number;
  r: RecordedAnswer[];
  q: string;
}

/** JSON with object keys sorted, so equal arguments digest alike whatever their key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object") {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

const digest = (args: Record<string, unknown>) => createHash("sha256").update(canonical(args)).digest("base64url");

/** Seals and opens request states under one key. */
export class RequestStateSeal {
  /** `ttlMs`: how long a state stays good (the client's time to answer the question it carries). */
  constructor(
    private readonly key: Buffer,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  private mac(body: string): Buffer {
    return createHmac("sha256", this.key).update(body).digest();
  }

  /** The sealed state of a round that ended on a question. */
  seal(binding: StateBinding, state: RoundState): string {
    const payload: Payload = { v: 1, s: binding.server, t: binding.tool, a: digest(binding.args), exp: this.now() + this.ttlMs, r: state.answers, q: state.pending };
    const body = Buffer.from(JSON.stringify(payload)).toString("base64url");
    return `${body}.${this.mac(body).toString("base64url")}`;
  }

  /** Opens a state the client sent back; a state that is altered, foreign, for other arguments or expired is invalid params. */
  open(state: unknown, binding: StateBinding): RoundState {
    const refuse = (why: string): never => {
      throw new RpcError(RpcCode.InvalidParams, `Invalid params: requestState ${why}`);
    };
    if (typeof state !== "string") return refuse("must be the string an input_required result carried, sent back unchanged");
    const dot = state.indexOf(".");
    const body = dot < 0 ? "" : state.slice(0, dot);
    const tag = dot < 0 ? Buffer.alloc(0) : Buffer.from(state.slice(dot + 1), "base64url");
    const expected = this.mac(body);
    const altered = "was altered, or was not issued by this server: call the tool again without it";
    if (tag.length !== expected.length || !timingSafeEqual(tag, expected)) return refuse(altered);
    let p: Payload;
    try {
      p = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as Payload;
    } catch {
      return refuse(altered);
    }
    if (p?.v !== 1 || !Array.isArray(p.r) || typeof p.q !== "string") return refuse(altered);
    if (p.s !== binding.server) refuse("was issued by another server: it cannot be replayed here");
    if (p.t !== binding.tool || p.a !== digest(binding.args)) refuse("was issued for another tool or other arguments: retry with the request that received it");
    if (!(this.now() <= p.exp)) refuse("has expired: call the tool again without it");
    return { answers: p.r, pending: p.q };
  }
}
