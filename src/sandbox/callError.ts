/**
 * How a failed call is named: the limit it breached, or the code's own error as
 * a message safe to show: its position and stack in the author's source, never
 * the host's (sourcePosition.ts).
 */
import type { QuickJSContext, QuickJSHandle } from "quickjs-emscripten-core";
import type { CallLimits, LimitName } from "./limits.ts";
import type { CallOutcome } from "./protocol.ts";
import { parseStack, positionedMessage, type SourceOrigin } from "./sourcePosition.ts";

/** The error of a failed call. */
export type CallError = NonNullable<CallOutcome["error"]>;

/** Why the host stopped a call: a breached limit or cancellation. */
export type Stop = LimitName | "cancelled";

/** The error for a limit the host noticed (deadline, cancellation, memory, stack). */
export function stopError(stop: Stop, limits: CallLimits): CallError {
  switch (stop) {
    case "cancelled":
      return { message: "The call was cancelled", limit: stop };
    case "timeout":
      return { message: `Timed out after ${limits.timeoutMs} ms`, limit: stop };
    case "memory":
      return { message: `Memory limit exceeded (${Math.round(limits.memoryBytes / 1048576)} MiB)`, limit: stop };
    case "stack":
      return { message: `Stack limit exceeded (${Math.round(limits.stackBytes / 1024)} KiB): too much recursion`, limit: stop };
    default:
      return { message: `The ${stop} limit was exceeded`, limit: stop };
  }
}

/**
 * True for the host engine's own stack overflow. The interpreter's stack limit
 * only sees its own stack, so deep native recursion (JSON of a deep value, Proxy
 * traps) can exhaust the worker thread's stack first; the host then throws out
 * of the middle of the wasm code and the module's state cannot be trusted.
 */
export function isHostStackOverflow(err: unknown): boolean {
  return (err as Error)?.name === "RangeError" && /call stack/i.test((err as Error).message);
}

/** True when a host-side failure came from inside the wasm module (a trap or an abort), leaving it unusable. */
export function isModuleFault(err: unknown): boolean {
  return err instanceof WebAssembly.RuntimeError || isHostStackOverflow(err);
}

/** What the code threw when it is not an object: a thrown string has no stack, and the text says how to get one. */
export function uncaughtMessage(value: unknown): string {
  if (typeof value !== "string") return `Uncaught ${String(value)}`.slice(0, 4000);
  return `Uncaught ${JSON.stringify(value.slice(0, 4000))} (a thrown string has no position: throw new Error(...) to get one)`;
}

/** Where an error's positions lead (made only when one has them) and what the code is called in messages. */
export interface ErrorSource {
  origin?: () => SourceOrigin;
  subject?: "tool" | "script";
}

/**
 * Translates a QuickJS exception into a call error. `atCeiling` tells whether the
 * heap reached its hard maximum: QuickJS throws a bare `null` when it cannot even
 * allocate the "out of memory" error, which only the heap's size tells apart from
 * a tool's own `throw null`.
 */
export function describeError(ctx: QuickJSContext, handle: QuickJSHandle, limits: CallLimits, atCeiling: boolean, source: ErrorSource = {}): CallError {
  let value: unknown;
  let readable = true;
  try {
    value = ctx.dump(handle);
    // an object that dumps as a string: the dump itself failed (out of memory)
    if (typeof value === "string" && ctx.typeof(handle) === "object") readable = false;
  } catch {
    readable = false;
  }
  if (!readable || value === null || value === undefined) {
    if (atCeiling) return stopError("memory", limits);
    if (!readable) return { message: `The ${source.subject ?? "tool"} failed with a value that cannot be shown` };
    return { message: uncaughtMessage(value) };
  }
  if (typeof value !== "object") return { message: uncaughtMessage(value) };
  const err = value as { name?: unknown; message?: unknown; stack?: unknown };
  const name = typeof err.name === "string" ? err.name : "";
  const message = typeof err.message === "string" ? err.message : "";
  if (message === "out of memory") return stopError("memory", limits);
  if (message === "stack overflow" || (name === "RangeError" && /call stack/i.test(message))) return stopError("stack", limits);
  if (message === "string too long") return { message: "Memory limit exceeded: string too long", limit: "memory" };
  if (!name && !message) {
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch {}
    return { message: `Uncaught ${json ?? "object"}`.slice(0, 4000) };
  }
  const headline = `${name && name !== "Error" ? `${name}: ` : ""}${message}`.slice(0, 4000) || name;
  const origin = source.origin?.();
  if (!origin) return { message: headline };
  const frames = parseStack(err.stack).flatMap((f) => origin.own(f) ?? []);
  return { message: positionedMessage(headline, frames, name) };
}
