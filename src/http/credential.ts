/**
 * Where callers put their API key: Authorization: Bearer, X-Dwizi-Key, or X-Management-Token.
 */

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The token of an `Authorization: Bearer <token>` value, or undefined. */
export function bearerToken(auth: string | null): string | undefined {
  if (!auth) return undefined;
  // the usual shape, exactly "Bearer <token>", without a regex match (hosted servers' hot path)
  if (auth.startsWith("Bearer ") && auth.length > 7) {
    let plain = true;
    for (let i = 7; i < auth.length && plain; i++) plain = auth.charCodeAt(i) > 32;
    if (plain) return auth.slice(7);
  }
  return BEARER.exec(auth)?.[1];
}

/** The presented credential, or undefined. */
export function presentedKey(headers: Headers): string | undefined {
  return bearerToken(headers.get("authorization")) ?? (headers.get("x-dwizi-key")?.trim() || headers.get("x-management-token")?.trim() || undefined);
}
