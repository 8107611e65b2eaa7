/**
 * The dev server's recent calls, newest first, for the dashboard: what went in,
 * what came out, the console lines. Kept in memory only, bounded.
 */
import type { LogLine } from "../sandbox/protocol.ts";

/** One finished call. */
export interface DevCall {
  at: string;
  tool: string;
  status: "ok" | "error" | "cancelled";
  durationMs: number;
  input: unknown;
  output: unknown;
  error: string | null;
  logs: LogLine[];
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
