/**
 * Slugs name assets in URLs and tool names: `^[a-z][a-z0-9-]{0,63}$`, unique per org among live assets.
 */
import { invalid } from "./domainError.ts";

/** The slug grammar from SPEC.md. */
export const SLUG_PATTERN = "^[a-z][a-z0-9-]{0,63}$";
const SLUG_RE = new RegExp(SLUG_PATTERN);

/** Derives a slug from a display name ("Send Email" → "send-email"). */
export function slugify(name: string): string {
  const s = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^[^a-z]+/, "")
    .replace(/-+$/, "")
    .slice(0, 64)
    .replace(/-+$/, "");
  return s;
}

/** The given slug, or one derived from `name`; fails when neither yields a valid slug. */
export function resolveSlug(slug: string | undefined, name: string, kind: string): string {
  const s = slug ?? slugify(name);
  if (!SLUG_RE.test(s)) {
    throw invalid(
      slug === undefined
        ? `Cannot derive a slug for this ${kind} from its name "${name}"; pass "slug" matching ${SLUG_PATTERN}`
        : `Invalid ${kind} slug "${slug}": it must match ${SLUG_PATTERN} (lowercase letter first, then lowercase letters, digits or -, at most 64)`,
    );
  }
  return s;
}
