/**
 * What a hosted server's calls run with — database, secrets, sandbox, the call log and
 * the org's sandbox budget — built once per process for the hosted endpoints and the
 * management operations that run a server's tools (execute-code).
 */
import type { HostedDeps } from "../hosted/catalog.ts";
import { SandboxBudget } from "../platform/sandboxBudget.ts";
import { setupLinksOf } from "../platform/setupLink.ts";
import type { Services } from "../services.ts";

const built = new WeakMap<Services, HostedDeps>();

/** The process's hosted-call dependencies (made on first use). */
export function hostedDepsOf(services: Services): HostedDeps {
  let deps = built.get(services);
  if (!deps) {
    // the budget is counted in the key rate store, through the key actors (one queue per counted key)
    const budget = new SandboxBudget((key, rate) => services.runtime.runPromise(services.keyActors.admit(key, rate)));
    deps = {
      db: services.database.db,
      box: services.box,
      sandbox: services.sandbox,
      config: services.config,
      budget,
      setupLinks: setupLinksOf(services.box, services.config.setupLinkTtlMs),
      onCall: (r) => {
        services.metrics.call(r.status, r.durationMs);
        services.callLog.record(r);
      },
    };
    built.set(services, deps);
  }
  return deps;
}
