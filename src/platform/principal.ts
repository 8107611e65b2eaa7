/**
 * Who is calling: an authenticated API key with its org, scopes and limits.
 */
import type { OrgLimits, RateLimits } from "../../db/schema.ts";

/** The caller of a management operation, resolved from its key on every request. */
export interface Principal {
  keyId: string;
  orgId: string;
  orgName: string;
  scopes: string[];
  /** When set, the key sees and manages only this workspace's servers. */
  workspaceId: string | null;
  keyRate: RateLimits | null;
  orgLimits: OrgLimits;
}
