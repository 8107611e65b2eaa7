/**
 * A call's result as JSON, made inside the context by the encoder it started with
 * (pristine JSON.stringify; a tool that replaces the global cannot forge its result,
 * nor pass a plain value for one built with mcp.*), and held to the output limit.
 */
import type { QuickJSHandle } from "quickjs-emscripten-core";
import type { CallError } from "./callError.ts";
import type { CallLimits } from "./limits.ts";
import type { ResidentContext } from "./residentContext.ts";
import type { CallOutcome } from "./protocol.ts";
import { readOutput } from "./toolOutput.ts";

/** Serializes a fulfilled value; toJSON and getters run here, under the call's limits. Handles are left to the heap restore. */
export function serializeResult(
  prep: ResidentContext,
  value: QuickJSHandle,
  limits: CallLimits,
  describe: (h: QuickJSHandle) => CallError,
  subject: "tool" | "script" = "tool",
): Pick<CallOutcome, "ok" | "output" | "rich" | "error"> {
  const { ctx } = prep;
  let text: string | undefined;
  if (ctx.typeof(value) !== "undefined") {
    const encoded = ctx.callFunction(prep.encode, ctx.undefined, value);
    if (encoded.error) {
      const e = describe(encoded.error);
      return { ok: false, error: e.limit ? e : { message: `The ${subject}'s result cannot be turned into JSON: ${e.message}` } };
    }
    text = ctx.typeof(encoded.value) === "string" ? ctx.getString(encoded.value) : undefined;
  }
  return readOutput(text, limits);
}
