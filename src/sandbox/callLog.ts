/**
 * A call's captured console output: secrets redacted, kept up to the log limit,
 * then cut with one marker line. Each line kept may also go out as it is written.
 */
import { Redactor } from "../redaction.ts";
import type { LogLine } from "./protocol.ts";

const LEVELS = new Set(["debug", "info", "log", "warn", "error"]);
/** `context.log` may use MCP's level names (RFC 5424): each is kept as the nearest console level. */
const MCP_LEVELS: Record<string, LogLine["level"]> = { notice: "info", warning: "warn", critical: "error", alert: "error", emergency: "error" };

/** Console lines of one call. */
export class CallLog {
  readonly lines: LogLine[] = [];
  private bytes = 0;
  private cut = false;
  private readonly redactor: Redactor | null;

  constructor(
    secrets: Record<string, string>,
    private readonly capBytes: number,
    /** Told of each line kept, as it is kept. */
    private readonly onLine?: (line: LogLine) => void,
  ) {
    this.redactor = Redactor.of(Object.values(secrets));
  }

  /** Adds a line, unless the cap was reached (then `text` is not even called). */
  push(level: string, text: () => string): void {
    if (this.cut) return;
    const line = this.redactor ? this.redactor.text(text()) : text();
    if (this.bytes + line.length > this.capBytes) {
      this.cut = true;
      this.keep({ level: "warn", message: `[console output truncated at ${this.capBytes} bytes]` });
      return;
    }
    this.bytes += line.length;
    this.keep({ level: LEVELS.has(level) ? (level as LogLine["level"]) : (MCP_LEVELS[level] ?? "log"), message: line });
  }

  private keep(line: LogLine): void {
    this.lines.push(line);
    this.onLine?.(line);
  }
}
