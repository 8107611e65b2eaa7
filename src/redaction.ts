/**
 * Secret values taken out of what dzx keeps: console lines, and a call's logged
 * input, output and error (SPEC "Secrets stay secret"). A tool may hand its secrets
 * to whatever it calls, but no record of the call holds them.
 */

/** What a redacted value reads as. */
export const REDACTED = "[secret]";

/** Values shorter than this are left alone: they would redact ordinary words. */
const MIN_LENGTH = 4;

/** Replaces every secret value in strings (and object keys) with a marker. */
export class Redactor {
  /** Each value as it reads inside a JSON string. */
  private readonly escaped: string[];

  private constructor(private readonly values: string[]) {
    this.escaped = values.map((v) => JSON.stringify(v).slice(1, -1));
  }

  /** A redactor for these values, or null when none is long enough to redact (nothing to do). */
  static of(values: readonly string[]): Redactor | null {
    // most calls read no secret: nothing to build for them (the sandbox asks on every call)
    if (values.length === 0) return null;
    // longest first: a secret that contains another is replaced whole
    const kept = [...new Set(values.filter((v) => typeof v === "string" && v.length >= MIN_LENGTH))].sort((a, b) => b.length - a.length);
    return kept.length ? new Redactor(kept) : null;
  }

  /** The text with every value replaced. */
  text(s: string): string {
    let out = s;
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join(REDACTED);
    return out;
  }

  /** Whether JSON text may hold a value (then `value` of its parse is worth the walk). */
  inJson(json: string): boolean {
    return this.escaped.some((e) => json.includes(e));
  }

  /** A copy of a JSON value with every string and key redacted (the value's depth is already bounded). */
  value(v: unknown): unknown {
    if (typeof v === "string") return this.text(v);
    if (Array.isArray(v)) return v.map((x) => this.value(x));
    if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [this.text(k), this.value(x)]));
    return v;
  }
}
