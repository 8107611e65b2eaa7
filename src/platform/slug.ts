/**
 * Slugs name assets in URLs and tool names: `^[a-z][a-z0-9_-]{0,63}$` (snake_case is
 * MCP's own style), unique per org among live assets. `__` is reserved: it joins an
 * attachment's alias to its tool's slug (`<alias>__<slug>`), so it may appear in
 * neither, and an exposed name splits one way only.
 */
import { Type } from "@sinclair/typebox";
import { invalid } from "./domainError.ts";

/** What joins an alias to a slug in an exposed tool name. */
export const NAME_SEPARATOR = "__";

/** The slug grammar from SPEC.md, `__` excluded. */
export const SLUG_PATTERN = "^(?!.*__)[a-z][a-z0-9_-]{0,63}$";
const SLUG_RE = new RegExp(SLUG_PATTERN);

/** The alias grammar (seed 001), `__` excluded; as long as a slug may be. */
export const ALIAS_PATTERN = SLUG_PATTERN;

const GRAMMAR = `a lowercase letter, then up to 63 lowercase letters, digits, _ or -; "__" is reserved (it joins <alias>__<slug>)`;

/** The `slug` field of every asset's input: documents the grammar and names it when refused. */
export const SlugField = Type.String({
  pattern: SLUG_PATTERN,
  description: `Unique per org; derived from name when omitted. ${GRAMMAR}`,
  errorMessage: `a slug is ${GRAMMAR}`,
});

/** The `alias` field of an attachment. */
export const AliasField = Type.String({
  pattern: ALIAS_PATTERN,
  description: `Published tool name becomes <alias>__<slug>. ${GRAMMAR}`,
  errorMessage: `an alias is ${GRAMMAR}`,
});

/** The name a tool is published under: `<alias>__<slug>` when an alias is set, else `<slug>`. */
export function exposedName(alias: string | null, slug: string): string {
  return alias ? `${alias}${NAME_SEPARATOR}${slug}` : slug;
}

/** Derives a slug from a display name ("Send Email" → "send-email", "get_weather" stays). */
export function slugify(name: string): string {
  const s = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, "-")
    .replace(/_{2,}/g, "_")
    .replace(/^[^a-z]+/, "")
    .replace(/[-_]+$/, "")
    .slice(0, 64)
    .replace(/[-_]+$/, "");
  return s;
}

/** The given slug, or one derived from `name`; fails when neither yields a valid slug. */
export function resolveSlug(slug: string | undefined, name: string, kind: string): string {
  const s = slug ?? slugify(name);
  if (!SLUG_RE.test(s)) {
    throw invalid(
      slug === undefined
        ? `Cannot derive a slug for this ${kind} from its name "${name}"; pass "slug": ${GRAMMAR}`
        : `Invalid ${kind} slug "${slug}": it must be ${GRAMMAR}, at most 64 characters`,
    );
  }
  return s;
}
