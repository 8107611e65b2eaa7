/**
 * Sliding-log rate limiting over three windows (burst, minute, hour): exact, and
 * small because the log never holds more than the hourly limit of timestamps.
 * The one implementation of the algorithm in TypeScript: the memory store keeps
 * it in process, the PostgreSQL store runs it over a row it holds locked (the
 * Redis store has its Lua twin, held to the same contract by one test suite).
 */
import type { Rate } from "../platform/limits.ts";

/** The outcome of one admission check, with what RateLimit-* headers report. */
export interface Admission {
  ok: boolean;
  /** Limit, remaining and reset (seconds) of the most constraining window. */
  limit: number;
  remaining: number;
  resetSec: number;
  /** When refused: how long until a request would be admitted. */
  retryAfterMs: number;
}

/** The widest window any rate can have (burstWindowSec is at most 3600): older entries never count. */
export const HORIZON_MS = 3_600_000;

/** Whether the minute window already keeps every hour within perHour (so the hour window is left out). */
export function hourImplied(rate: Rate): boolean {
  return rate.perHour >= 60 * rate.perMinute;
}

/** A key's admitted-request log (milliseconds, ascending). */
export class RateWindow {
  constructor(private log: number[] = []) {}

  /** The log as it stands, e.g. to store it. */
  entries(): readonly number[] {
    return this.log;
  }

  /** Admits (and records) a request at `now` if every window has room. */
  admit(now: number, rate: Rate): Admission {
    // a clock stepping back must not unsort the log (and an earlier "now" would only be more lenient)
    if (this.log.length && now < this.log[this.log.length - 1]) now = this.log[this.log.length - 1];
    const windows = [
      { ms: rate.burstWindowSec * 1000, limit: rate.burst },
      { ms: 60_000, limit: rate.perMinute },
    ];
    // an hour is 60 minutes, none holding more than perMinute: with perHour at least 60 × that the hour
    // never refuses, and leaving it out keeps a minute of log instead of an hour (the sandbox budget's)
    if (!hourImplied(rate)) windows.push({ ms: 3_600_000, limit: rate.perHour });
    const horizon = Math.max(...windows.map((w) => w.ms));
    let drop = 0;
    while (drop < this.log.length && this.log[drop] <= now - horizon) drop++;
    if (drop) this.log = this.log.slice(drop);

    let retryAfterMs = 0;
    const stats = windows.map((w) => {
      const from = this.log.findIndex((t) => t > now - w.ms);
      const inWindow = from === -1 ? 0 : this.log.length - from;
      if (inWindow >= w.limit) {
        // the request that must leave the window before one more fits
        const leaving = this.log[this.log.length - w.limit];
        retryAfterMs = Math.max(retryAfterMs, leaving + w.ms - now);
      }
      const oldest = from === -1 ? now : this.log[from];
      return { limit: w.limit, used: inWindow, resetMs: oldest + w.ms - now };
    });
    const ok = retryAfterMs === 0;
    if (ok) {
      this.log.push(now);
      for (const s of stats) s.used++;
    }
    const tightest = stats.reduce((a, b) => (b.limit - b.used < a.limit - a.used ? b : a));
    return {
      ok,
      limit: tightest.limit,
      remaining: Math.max(0, tightest.limit - tightest.used),
      resetSec: Math.max(0, Math.ceil(tightest.resetMs / 1000)),
      retryAfterMs: ok ? 0 : Math.max(1, retryAfterMs),
    };
  }

  /** Whether the log has nothing inside the last `horizonMs` (the window may be dropped). */
  idle(now: number, horizonMs: number): boolean {
    return this.log.length === 0 || this.log[this.log.length - 1] <= now - horizonMs;
  }
}
