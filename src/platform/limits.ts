/**
 * Platform defaults for rate limits and asset caps (seed 000 "Limits"), and how
 * key- and org-level overrides combine with them.
 */
import { Type } from "@sinclair/typebox";
import type { AssetCaps, OrgLimits, RateLimits } from "../../db/schema.ts";

/** The shape an org's limit overrides must have (checked before they are stored). */
export const OrgLimitsSchema = Type.Object(
  {
    rate: Type.Optional(
      Type.Object(
        {
          burst: Type.Optional(Type.Integer({ minimum: 1 })),
          burstWindowSec: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
          perMinute: Type.Optional(Type.Integer({ minimum: 1 })),
          perHour: Type.Optional(Type.Integer({ minimum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    caps: Type.Optional(
      Type.Object(
        {
          tools: Type.Optional(Type.Integer({ minimum: 0 })),
          prompts: Type.Optional(Type.Integer({ minimum: 0 })),
          resources: Type.Optional(Type.Integer({ minimum: 0 })),
          servers: Type.Optional(Type.Integer({ minimum: 0 })),
          partials: Type.Optional(Type.Integer({ minimum: 0 })),
        },
        { additionalProperties: false },
      ),
    ),
    retentionDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 90 })),
    egress: Type.Optional(
      Type.Object(
        {
          allowHosts: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
          denyHosts: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
          allowPrivateHosts: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
        },
        { additionalProperties: false },
      ),
    ),
    sandbox: Type.Optional(Type.Object({ runsPerMinute: Type.Optional(Type.Integer({ minimum: 1 })) }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

/** Rate windows with every field present. */
export type Rate = Required<RateLimits>;

/** Seed 000 defaults: 60/min, 600/hour, burst 20 per 10 s (counted on operations). */
export const DEFAULT_RATE: Rate = { burst: 20, burstWindowSec: 10, perMinute: 60, perHour: 600 };

/**
 * Protocol messages (initialize, ping, notifications, lists, logging/setLevel…) are
 * counted apart from operations, at this many times the key's rate (issue 15.8):
 * a client that reconnects or pings never spends the budget of its real work.
 */
export const PROTOCOL_RATE_FACTOR = 10;

/** The cap on a key's protocol messages: its operation rate times PROTOCOL_RATE_FACTOR, over the same windows. */
export function protocolRate(rate: Rate): Rate {
  const f = PROTOCOL_RATE_FACTOR;
  return { burst: rate.burst * f, burstWindowSec: rate.burstWindowSec, perMinute: rate.perMinute * f, perHour: rate.perHour * f };
}

/** Seed 000 defaults: tools 10, prompts 20, resources 20, servers 3 (partials, dzx's own, 50). */
export const DEFAULT_CAPS: Required<AssetCaps> = { tools: 10, prompts: 20, resources: 20, servers: 3, partials: 50 };

/** Key settings win over org settings, which win over the defaults. */
export function effectiveRate(org: OrgLimits | null | undefined, key: RateLimits | null | undefined): Rate {
  return { ...DEFAULT_RATE, ...stripUndefined(org?.rate), ...stripUndefined(key) };
}

/** The org's sandbox egress rules, with empty lists for what it does not set. */
export function egressRules(org: OrgLimits | null | undefined) {
  return { allowHosts: org?.egress?.allowHosts ?? [], denyHosts: org?.egress?.denyHosts ?? [], allowPrivateHosts: org?.egress?.allowPrivateHosts ?? [] };
}

/**
 * The org's sandbox runs per minute, or undefined: no budget until the operator sets one
 * (`orgs limits`). Unset, a call pays nothing for it — no rate-store trip on the hot path;
 * the per-key rates and the sandbox's fair queue still bound what one org can start.
 */
export function sandboxRunsPerMinute(org: OrgLimits | null | undefined): number | undefined {
  return org?.sandbox?.runsPerMinute;
}

/**
 * The sandbox budget as rate windows, so the key rate store counts it: one minute, N runs.
 * The hour allows 60 full minutes, which the minute window already implies, so the store
 * keeps a minute of log, not an hour (rateWindow.ts).
 */
export function sandboxRate(org: OrgLimits | null | undefined): Rate | undefined {
  const n = sandboxRunsPerMinute(org);
  if (n === undefined) return undefined;
  return { burst: n, burstWindowSec: 60, perMinute: n, perHour: n * 60 };
}

/** The org's cap for one asset kind. */
export function capFor(org: OrgLimits | null | undefined, kind: keyof AssetCaps): number {
  return org?.caps?.[kind] ?? DEFAULT_CAPS[kind];
}

function stripUndefined<T extends object>(o: T | null | undefined): Partial<T> {
  if (!o) return {};
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as Partial<T>;
}
