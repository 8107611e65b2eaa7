/**
 * A tool's question to its client, on any lane: the capability the client declared
 * is checked first, then the call's own way to the client carries it
 * (`CallContext.ask`: a server→client request on the 2025 lanes, a multi round-trip
 * on 2026-07-28). Every refusal names the sandbox function and the reason, as an
 * error the tool may catch.
 */
import type { CallContext } from "./catalog.ts";

/** The requests a tool may send its client: the sandbox function and the capability each needs. */
const ASKS: Record<string, { fn: string; capability: "elicitation" | "sampling" }> = {
  "elicitation/create": { fn: "context.elicit", capability: "elicitation" },
  "sampling/createMessage": { fn: "context.sample", capability: "sampling" },
};

/** Whether the capabilities declare what `capability` needs (form-mode elicitation: `{}` or `{form}`). */
function declares(caps: Record<string, unknown> | undefined, capability: "elicitation" | "sampling"): boolean {
  const c = caps?.[capability];
  if (typeof c !== "object" || c === null) return false;
  // 2025-11-25: an empty elicitation capability means form mode; one naming modes must name "form"
  return capability !== "elicitation" || Object.keys(c).length === 0 || "form" in c;
}

/** Sends a question of a tool to the call's client and resolves with the client's result. */
export async function askClient(ctx: CallContext, method: string, params: Record<string, unknown>, signal?: AbortSignal): Promise<Record<string, unknown>> {
  const ask = ASKS[method];
  if (!ask) throw new Error(`The client cannot be asked "${method}"`);
  if (!declares(ctx.clientCapabilities, ask.capability)) {
    throw new Error(`${ask.fn}: the client did not declare the "${ask.capability}" capability${ask.capability === "elicitation" ? " (form mode)" : ""}, so it cannot be asked`);
  }
  if (!ctx.ask) throw new Error(`${ask.fn}: this call has no way to reach its client (its connection carries no requests from the server)`);
  try {
    return await ctx.ask(method, params, signal);
  } catch (err) {
    throw new Error(`${ask.fn} failed: ${(err as Error)?.message ?? String(err)}`);
  }
}
