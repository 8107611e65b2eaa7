/**
 * A call's captured console output: secrets redacted, kept up to the log limit,
 * then cut with one marker line.
 */
import { Redactor } from "../redaction.ts";
import type { LogLine } from "./protocol.ts";

const LEVELS = new Set(["debug", "info", "log", "warn", "error"]);

/** Console lines of one call. */
export class CallLog {
  readonly lines: LogLine[] = [];
  private bytes = 0;
  private cut = false;
  private readonly redactor: Redactor | null;

  constructor(
    secrets: Record<string, string>,
    private readonly capBytes: number,
  ) {
    this.redactor = Redactor.of(Object.values(secrets));
  }

  /** Adds a line, unless the cap was reached (then `text` is not even called). */
  push(level: string, text: () => string): void {
    if (this.cut) return;
    const line = this.redactor ? this.redactor.text(text()) : text();
    if (this.bytes + line.length > this.capBytes) {
      this.cut = true;
      this.lines.push({ level: "warn", message: `[console output truncated at ${this.capBytes} bytes]` });
      return;
    }
    this.bytes += line.length;
    this.lines.push({ level: (LEVELS.has(level) ? level : "log") as LogLine["level"], message: line });
  }
}
