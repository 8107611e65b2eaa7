/**
 * The gate every management request passes: the API key is resolved (and its
 * revocation checked) on every request, then its actor admits it under the rate limits.
 */
import { authenticate, touchKey } from "../platform/apiKey.ts";
import type { DomainCode } from "../platform/domainError.ts";
import { effectiveRate } from "../platform/limits.ts";
import type { Principal } from "../platform/principal.ts";
import type { Services } from "../services.ts";
import { presentedKey } from "./credential.ts";

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

/** Authenticates and rate-limits one request. */
export async function passKeyGate(services: Services, request: Request): Promise<GateOpen | GateClosed> {
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
  const rate = effectiveRate(principal.orgLimits, principal.keyRate);
  const a = await services.runtime.runPromise(services.keyActors.admit(principal.keyId, rate));
  const headers: Record<string, string> = {
    "ratelimit-limit": String(a.limit),
    "ratelimit-remaining": String(a.remaining),
    "ratelimit-reset": String(a.resetSec),
  };
  if (!a.ok) {
    const seconds = Math.ceil(a.retryAfterMs / 1000);
    return {
      ok: false,
      status: 429,
      code: "RATE_LIMITED",
      message: `Rate limit exceeded for this key; retry after ${seconds}s`,
      headers: { ...headers, "retry-after": String(seconds) },
      retryAfterMs: a.retryAfterMs,
    };
  }
  const now = Date.now();
  if ((lastTouched.get(principal.keyId) ?? 0) < now - 60_000) {
    lastTouched.set(principal.keyId, now);
    touchKey(services.database.db, principal.keyId);
  }
  return { ok: true, principal, headers };
}
