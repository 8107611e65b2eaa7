/**
 * The dev server's recent calls, newest first, for the dashboard: what went in,
 * what came out, the console lines. Kept in memory only, bounded.
 */
import type { CallRecord } from "../hosted/catalog.ts";

/** One finished call: what the platform's call log keeps of one, with when and which tool. */
export interface DevCall extends Pick<CallRecord, "status" | "durationMs" | "input" | "output" | "error" | "logs"> {
  at: string;
  tool: string;
}

/** A bounded list of recent calls. */
export class CallHistory {
  private readonly calls: DevCall[] = [];
  constructor(private readonly max = 100) {}

  add(call: DevCall): void {
    this.total++;
    this.calls.unshift(call);
    if (this.calls.length > this.max) this.calls.length = this.max;
  }

  /** Newest first. */
  recent(): readonly DevCall[] {
    return this.calls;
  }

  /** Calls since the server started (not only the kept ones). */
  total = 0;
}
