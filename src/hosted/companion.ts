/**
 * Companion tools (issue 17.5, seed 002): an attached tool whose input property
 * declares `x-dzx-options` brings `<alias>__list_<property>s` (or `list_<property>s`)
 * onto its server, which runs the named options tool and returns its output.
 * The companion runs as part of its tool's attachment (same alias, same secret
 * bindings), so an alias's connection lists that alias's values.
 * A name already taken is the real tool's: the companion is skipped with a warning.
 */
import { exposedName } from "../platform/slug.ts";
import { companionSlug, optionSources } from "../platform/optionSource.ts";
import type { AttachedTool, ToolRow } from "./definition.ts";

/** A companion tool of a server: its exposed name, the property it lists and what runs it. */
export interface Companion {
  name: string;
  property: string;
  /** The exposed name of the tool whose property it serves. */
  of: string;
  /** The options tool, as part of the serving tool's attachment. */
  entry: AttachedTool;
}

/** The slugs of every options tool the attached tools name. */
export function optionToolSlugs(attached: AttachedTool[]): string[] {
  return [...new Set(attached.flatMap((a) => optionSources(a.tool.inputSchema).map((s) => s.tool)))];
}

/** The companions of the attached tools; `optionTools` are the org's live tools by slug. Names taken are warned about, not published. */
export function companionsOf(attached: AttachedTool[], optionTools: Map<string, ToolRow>): { companions: Companion[]; warnings: string[] } {
  const taken = new Set(attached.map((a) => exposedName(a.attachment.alias, a.tool.slug)));
  const byName = new Map<string, Companion>();
  const warnings: string[] = [];
  for (const a of attached) {
    const of = exposedName(a.attachment.alias, a.tool.slug);
    for (const { property, tool } of optionSources(a.tool.inputSchema)) {
      const name = exposedName(a.attachment.alias, companionSlug(property));
      const options = optionTools.get(tool);
      if (!options) {
        warnings.push(`Companion tool "${name}" of "${of}" is not published: its options tool "${tool}" no longer exists`);
        continue;
      }
      if (taken.has(name)) {
        warnings.push(`Companion tool "${name}" of "${of}" is not published: this server already has a tool named "${name}", which wins`);
        continue;
      }
      const same = byName.get(name);
      if (same) {
        // two tools of one alias listing the same property from the same tool share one companion
        if (same.entry.tool.id !== options.id) warnings.push(`Companion tool "${name}" of "${of}" is not published: "${same.of}" already has a companion of that name listing "${same.entry.tool.slug}"`);
        continue;
      }
      const attachment: AttachedTool["attachment"] = {
        ...a.attachment,
        id: `companion:${a.attachment.id}:${property}`,
        toolId: options.id,
        displayName: null,
        description: null,
        inputDefaults: null,
        partialIds: [],
      };
      byName.set(name, { name, property, of, entry: { attachment, tool: options, partials: [] } });
    }
  }
  return { companions: [...byName.values()], warnings };
}
