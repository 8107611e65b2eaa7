/**
 * Platform defaults for rate limits and asset caps (seed 000 "Limits"), and how
 * key- and org-level overrides combine with them.
 */
import type { AssetCaps, OrgLimits, RateLimits } from "../../db/schema.ts";

/** Rate windows with every field present. */
export type Rate = Required<RateLimits>;

/** Seed 000 defaults: 60/min, 600/hour, burst 20 per 10 s. */
export const DEFAULT_RATE: Rate = { burst: 20, burstWindowSec: 10, perMinute: 60, perHour: 600 };

/** Seed 000 defaults: tools 10, prompts 20, resources 20, servers 3. */
export const DEFAULT_CAPS: Required<AssetCaps> = { tools: 10, prompts: 20, resources: 20, servers: 3 };

/** Key settings win over org settings, which win over the defaults. */
export function effectiveRate(org: OrgLimits | null | undefined, key: RateLimits | null | undefined): Rate {
  return { ...DEFAULT_RATE, ...stripUndefined(org?.rate), ...stripUndefined(key) };
}

/** The org's cap for one asset kind. */
export function capFor(org: OrgLimits | null | undefined, kind: keyof AssetCaps): number {
  return org?.caps?.[kind] ?? DEFAULT_CAPS[kind];
}

function stripUndefined<T extends object>(o: T | null | undefined): Partial<T> {
  if (!o) return {};
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as Partial<T>;
}
