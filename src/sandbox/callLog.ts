/**
 * A call's captured console output: secrets redacted, kept up to the log limit,
 * then cut with one marker line.
 */
import type { LogLine } from "./protocol.ts";

const LEVELS = new Set(["debug", "info", "log", "warn", "error"]);

/** Console lines of one call. */
export class CallLog {
  readonly lines: LogLine[] = [];
  private bytes = 0;
  private cut = false;
  private readonly secrets: string[];

  constructor(
    secrets: Record<string, string>,
    private readonly capBytes: number,
  ) {
    // very short values would redact ordinary words
    this.secrets = Object.values(secrets).filter((v) => v.length >= 4);
  }

  /** Adds a line, unless the cap was reached (then `text` is not even called). */
  push(level: string, text: () => string): void {
    if (this.cut) return;
    const line = this.secrets.reduce((t, v) => t.split(v).join("[secret]"), text());
    if (this.bytes + line.length > this.capBytes) {
      this.cut = true;
      this.lines.push({ level: "warn", message: `[console output truncated at ${this.capBytes} bytes]` });
      return;
    }
    this.bytes += line.length;
    this.lines.push({ level: (LEVELS.has(level) ? level : "log") as LogLine["level"], message: line });
  }
}
