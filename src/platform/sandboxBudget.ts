/**
 * The org's sandbox budget (issue 17.4): how many sandbox runs — hosted tool calls,
 * CODE-mode scripts and the tools.* calls they make, execute-code — it may start per
 * minute. Counted in the key rate store under `sandbox:<orgId>`, so every process
 * sharing that store (PostgreSQL, Redis) spends one budget.
 */
import type { OrgLimits } from "../../db/schema.ts";
import type { Rate } from "./limits.ts";
import { sandboxRate } from "./limits.ts";
import { DomainError } from "./domainError.ts";

/** What the rate store answers for one run (the fields of rateWindow's Admission this reads). */
export interface BudgetAdmission {
  ok: boolean;
  retryAfterMs: number;
}

/** Admits one request under `rate` for a rate-store key (the key actors' admit, as a promise). */
export type AdmitRun = (key: string, rate: Rate) => Promise<BudgetAdmission>;

/** Spends the sandbox budget of an org, one run at a time. */
export class SandboxBudget {
  constructor(private readonly admit: AdmitRun) {}

  /** Spends one run; when the minute's runs are spent, the QUOTA_EXCEEDED error (naming the limit and when a run is admitted again) instead. */
  async take(orgId: string, limits: OrgLimits | null | undefined): Promise<DomainError | undefined> {
    const rate = sandboxRate(limits);
    if (!rate) return undefined; // no budget set: nothing to count
    const a = await this.admit(`sandbox:${orgId}`, rate);
    if (a.ok) return undefined;
    const retryAfterSec = Math.max(1, Math.ceil(a.retryAfterMs / 1000));
    return new DomainError(
      "QUOTA_EXCEEDED",
      `Sandbox quota exceeded: this org may start ${rate.perMinute} sandbox runs per minute (limit sandbox.runsPerMinute) and has used them; ` +
        `the next run is admitted in ${retryAfterSec} s (at ${new Date(Date.now() + a.retryAfterMs).toISOString()}). The operator raises it with dzx orgs limits --set '{"sandbox":{"runsPerMinute":N}}'.`,
      { limit: rate.perMinute, window: "1m", retryAfterMs: a.retryAfterMs },
    );
  }

  /** Spends one run, or throws the QUOTA_EXCEEDED error `take` answers. */
  async spend(orgId: string, limits: OrgLimits | null | undefined): Promise<void> {
    const refused = await this.take(orgId, limits);
    if (refused) throw refused;
  }
}
