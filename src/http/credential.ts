/**
 * Where callers put their API key: Authorization: Bearer, X-Dwizi-Key, or X-Management-Token.
 */

/** The presented credential, or undefined. */
export function presentedKey(headers: Headers): string | undefined {
  const auth = headers.get("authorization");
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  return headers.get("x-dwizi-key")?.trim() || headers.get("x-management-token")?.trim() || undefined;
}
