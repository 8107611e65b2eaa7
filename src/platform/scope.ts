/**
 * Scopes an API key may carry (SPEC "Tenancy, keys and scopes"); write implies read.
 */

/** Every scope, in the order documented. */
export const ALL_SCOPES = [
  "tools:read",
  "tools:write",
  "resources:read",
  "resources:write",
  "prompts:read",
  "prompts:write",
  "mcp:read",
  "mcp:write",
  "org:read",
  "secrets:read",
  "secrets:write",
  "keys:write",
  "usage:read",
  "audit:read",
] as const;

/** One scope name. */
export type Scope = (typeof ALL_SCOPES)[number];

/** Whether a string names a known scope. */
export function isScope(s: string): s is Scope {
  return (ALL_SCOPES as readonly string[]).includes(s);
}

/** Whether a key holding `held` may act with `needed` (x:write grants x:read). */
export function grants(held: readonly string[], needed: Scope): boolean {
  if (held.includes(needed)) return true;
  if (needed.endsWith(":read")) return held.includes(needed.replace(/:read$/, ":write"));
  return false;
}

/** Parses `a,b c` or `all` into a sorted, de-duplicated scope list; unknown names are returned apart. */
export function parseScopes(input: string | readonly string[]): { scopes: Scope[]; unknown: string[] } {
  const parts = (typeof input === "string" ? input.split(/[\s,]+/) : [...input]).map((s) => s.trim()).filter(Boolean);
  if (parts.length === 1 && parts[0] === "all") return { scopes: [...ALL_SCOPES], unknown: [] };
  const unknown = parts.filter((p) => !isScope(p));
  const scopes = ALL_SCOPES.filter((s) => parts.includes(s));
  return { scopes, unknown };
}
