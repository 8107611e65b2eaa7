/**
 * The gate every management request passes: the API key is resolved (and its
 * revocation checked) on every request, then its actor admits it under the rate
 * limits — operations under the key's rate, protocol messages under their own,
 * wider cap in a window of their own (issue 15.8), so neither spends the other's budget.
 */
import { authenticate, touchKey } from "../platform/apiKey.ts";
import type { DomainCode } from "../platform/domainError.ts";
import { effectiveRate, PROTOCOL_RATE_FACTOR, protocolRate } from "../platform/limits.ts";
import type { Principal } from "../platform/principal.ts";
import type { Services } from "../services.ts";
import { presentedKey } from "./credential.ts";

/** What a request is charged as: an operation (a `dwizi.*` tools/call, a REST call) or protocol traffic. */
export type Traffic = "operation" | "protocol";

/** Admitted, with the RateLimit-* headers to send. */
export interface GateOpen {
  ok: true;
  principal: Principal;
  headers: Record<string, string>;
}

/** Refused, with the status and headers to send. */
export interface GateClosed {
  ok: false;
  status: 401 | 429;
  code: DomainCode;
  message: string;
  headers: Record<string, string>;
  retryAfterMs?: number;
}

const lastTouched = new Map<string, number>();

/** Resolves the request's API key to its principal (no rate is charged). */
export async function authenticateKey(services: Services, request: Request): Promise<{ ok: true; principal: Principal } | GateClosed> {
  const key = presentedKey(request.headers);
  if (!key) {
    return {
      ok: false,
      status: 401,
      code: "UNAUTHORIZED",
      message: "Missing API key: send Authorization: Bearer dwz_live_..., X-Dwizi-Key or X-Management-Token",
      headers: { "www-authenticate": 'Bearer realm="dzx"' },
    };
  }
  const principal = await authenticate(services.database.db, key);
  if (!principal) {
    return { ok: false, status: 401, code: "UNAUTHORIZED", message: "Invalid or revoked API key", headers: { "www-authenticate": 'Bearer realm="dzx", error="invalid_token"' } };
  }
  const now = Date.now();
  if ((lastTouched.get(principal.keyId) ?? 0) < now - 60_000) {
    lastTouched.set(principal.keyId, now);
    touchKey(services.database.db, principal.keyId);
  }
  return { ok: true, principal };
}

/** Charges one request of `traffic` to the key's window for it; the headers report that window. */
export async function chargeKey(services: Services, principal: Principal, traffic: Traffic): Promise<GateOpen | GateClosed> {
  const rate = effectiveRate(principal.orgLimits, principal.keyRate);
  const operation = traffic === "operation";
  // protocol traffic has a window of its own, under a window id no key id can take
  const window = operation ? principal.keyId : `${principal.keyId}:protocol`;
  const a = await services.runtime.runPromise(services.keyActors.admit(window, operation ? rate : protocolRate(rate)));
  const headers: Record<string, string> = {
    "ratelimit-limit": String(a.limit),
    "ratelimit-remaining": String(a.remaining),
    "ratelimit-reset": String(a.resetSec),
  };
  if (a.ok) return { ok: true, principal, headers };
  const seconds = Math.ceil(a.retryAfterMs / 1000);
  return {
    ok: false,
    status: 429,
    code: "RATE_LIMITED",
    message: operation
      ? `Rate limit exceeded for this key; retry after ${seconds}s`
      : `Rate limit for protocol messages (initialize, ping, notifications, lists; ${PROTOCOL_RATE_FACTOR}× the key's rate) exceeded for this key; retry after ${seconds}s`,
    headers: { ...headers, "retry-after": String(seconds) },
    retryAfterMs: a.retryAfterMs,
  };
}

/** Authenticates one request and charges it as `traffic`. */
export async function passKeyGate(services: Services, request: Request, traffic: Traffic = "operation"): Promise<GateOpen | GateClosed> {
  const auth = await authenticateKey(services, request);
  return auth.ok ? chargeKey(services, auth.principal, traffic) : auth;
}
