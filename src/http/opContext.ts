/**
 * The context a management operation runs with, built the same way for both surfaces.
 */
import type { OpContext } from "../management/operation.ts";
import type { Principal } from "../platform/principal.ts";
import type { Services } from "../services.ts";
import { requestBaseUrl } from "./baseUrl.ts";
import { hostedDepsOf } from "./hostedDeps.ts";

/** Operation context for one request by `principal`. */
export function opContext(services: Services, principal: Principal, request: Request): OpContext {
  return {
    db: services.database.db,
    principal,
    box: services.box,
    baseUrl: requestBaseUrl(services.config, request),
    sandbox: services.sandbox,
    config: services.config,
    announceChange: () => services.changes.publish(principal.orgId),
    flushCalls: () => services.callLog.flush(),
    hosted: hostedDepsOf(services),
  };
}
