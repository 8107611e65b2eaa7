/**
 * Where an input property's values come from (issue 17.5, seed 002 companion tools):
 * `"x-dzx-options": {"tool": "<tool slug>"}` on a top-level property of a tool's
 * inputSchema. The key stays in the published schema (unknown `x-` keys are legal
 * JSON Schema, and it tells an agent which companion lists the values).
 */
import { invalid } from "./domainError.ts";

/** The schema key naming a property's options tool. */
export const OPTIONS_KEY = "x-dzx-options";

/** Property names a companion can be named after: `list_<property>s` must be a valid MCP tool name, and `__` stays reserved. */
const PROPERTY_RE = /^(?!.*__)[A-Za-z0-9_-]{1,60}$/;

/** One property whose values an options tool lists. */
export interface OptionSource {
  property: string;
  /** The options tool's slug. */
  tool: string;
}

/** The option sources a schema declares (malformed declarations are skipped here; checkOptionSources refuses them). */
export function optionSources(schema: Record<string, unknown>): OptionSource[] {
  const props = schema.properties;
  if (typeof props !== "object" || props === null) return [];
  const out: OptionSource[] = [];
  for (const [property, p] of Object.entries(props as Record<string, unknown>)) {
    const decl = typeof p === "object" && p !== null ? (p as Record<string, unknown>)[OPTIONS_KEY] : undefined;
    const tool = typeof decl === "object" && decl !== null ? (decl as Record<string, unknown>).tool : undefined;
    if (typeof tool === "string" && PROPERTY_RE.test(property)) out.push({ property, tool });
  }
  return out;
}

/** The companion's name without alias: `list_<property>s`. */
export function companionSlug(property: string): string {
  return `list_${property}s`;
}

/**
 * Refuses malformed `x-dzx-options` declarations and ones naming a tool the org does
 * not have (`exists` answers for a slug), naming the property.
 */
export async function checkOptionSources(schema: Record<string, unknown>, exists: (slug: string) => Promise<boolean>): Promise<void> {
  const props = schema.properties;
  if (typeof props !== "object" || props === null) return;
  for (const [property, p] of Object.entries(props as Record<string, unknown>)) {
    if (typeof p !== "object" || p === null || !(OPTIONS_KEY in p)) continue;
    const decl = (p as Record<string, unknown>)[OPTIONS_KEY];
    const where = `inputSchema property "${property}"`;
    const tool = typeof decl === "object" && decl !== null && !Array.isArray(decl) ? (decl as Record<string, unknown>).tool : undefined;
    if (typeof tool !== "string" || !tool) throw invalid(`${where}: "${OPTIONS_KEY}" must be {"tool": "<tool slug>"}, the tool that lists its values`);
    if (!PROPERTY_RE.test(property)) {
      throw invalid(`${where}: a property with "${OPTIONS_KEY}" gets a companion tool named ${companionSlug("<property>")}, so its name must be up to 60 letters, digits, _ or - (no "__")`);
    }
    if (!(await exists(tool))) throw invalid(`${where}: "${OPTIONS_KEY}" names tool "${tool}", which this org does not have (create it first)`);
  }
}
