/**
 * What a dev folder asks the platform to hold: each tool (bundled), resource and
 * prompt as the body its REST create takes, keyed by slug — or every reason the
 * folder cannot be deployed, all found before anything is written.
 */
import { readFileSync } from "node:fs";
import { relative, sep } from "node:path";
import type { DevFolder } from "../dev/folder.ts";
import { where } from "../dev/sourcePosition.ts";
import { placeholders } from "../platform/prompt.ts";
import { SLUG_PATTERN, slugify } from "../platform/slug.ts";
import { bundleTool } from "./bundle.ts";

/** The kinds of assets a folder deploys. */
export type AssetKind = "tool" | "resource" | "prompt";

/** One asset the folder defines: its file, slug and create body. */
export interface FolderAsset {
  kind: AssetKind;
  /** Path relative to the folder. */
  file: string;
  slug: string;
  /** For resources: the uri they are matched by. */
  uri?: string;
  body: Record<string, unknown>;
}

/** The folder's assets, what stops the deploy, and what is worth a warning. */
export interface FolderAssets {
  assets: FolderAsset[];
  refusals: string[];
  warnings: string[];
}

const SLUG = new RegExp(SLUG_PATTERN);
const GRAMMAR = `a lowercase letter, then up to 63 lowercase letters, digits, "_" or "-" ("__" is reserved)`;

/** Reads, bundles and checks every tool, resource and prompt of a loaded folder. */
export async function folderAssets(folder: DevFolder): Promise<FolderAssets> {
  const refusals = folder.broken.map((b) => `${where(b.file, b)}: ${b.message}`);
  const warnings: string[] = [];
  const assets: FolderAsset[] = [];
  if (folder.context) {
    warnings.push(
      `${folder.context.rel} is not deployed: the platform has no context injection, so its tools get the platform's context (requestId, endUserId, server, secrets, progress, log, elicit, sample) and nothing from ${folder.context.rel}`,
    );
  }

  // every tool is bundled and checked, so one run names every problem
  for (const t of folder.tools) {
    if (!SLUG.test(t.name)) {
      refusals.push(`${t.rel}: "${t.name}" cannot be a platform tool slug (${GRAMMAR}); rename the file`);
      continue;
    }
    const bundle = await bundleTool(folder.dir, t.file);
    if (!bundle.ok) {
      for (const g of bundle.gaps) refusals.push(`${t.rel}: tool "${t.name}" cannot run in the platform's sandbox: ${g.file === t.rel ? "it" : where(g.file, g)} ${g.needs}${g.file === t.rel && g.line ? ` (line ${g.line})` : ""}`);
      continue;
    }
    if (t.listing.annotations) warnings.push(`${t.rel}: the exported annotations are not kept on the platform (a platform tool has none)`);
    assets.push({
      kind: "tool",
      file: t.rel,
      slug: t.name,
      body: {
        name: t.listing.title ?? t.name,
        slug: t.name,
        description: t.listing.description ?? "",
        language: "js",
        source: bundle.source,
        inputSchema: t.listing.inputSchema,
        outputSchema: t.outputSchema ?? null,
      },
    });
  }

  for (const r of folder.resources) {
    // the slug comes from the file (stable when mcp.json renames or re-URIs it), the display name from mcp.json
    const fileName = relative(folder.manifest.paths.resources, r.file).split(sep).join("/").replace(/\.[^./]+$/, "");
    const slug = slugify(fileName);
    if (!SLUG.test(slug)) {
      refusals.push(`${r.rel}: ${r.uri} needs a slug on the platform and "${fileName}" gives none (${GRAMMAR}); rename the file`);
      continue;
    }
    const twin = assets.find((a) => a.kind === "resource" && a.slug === slug);
    if (twin) {
      refusals.push(`${r.rel}: its platform slug "${slug}" is also ${twin.file}'s; rename one of them`);
      continue;
    }
    const bytes = readFileSync(r.file);
    const content = r.binary ? { blob: bytes.toString("base64") } : { text: bytes.toString("utf8") };
    if (r.title) warnings.push(`${r.rel}: its title is not kept on the platform (a platform resource has a name and a description)`);
    assets.push({
      kind: "resource",
      file: r.rel,
      slug,
      uri: r.uri,
      body: { uri: r.uri, name: r.name, slug, ...(r.description ? { description: r.description } : {}), mimeType: r.mimeType, ...content },
    });
  }

  for (const p of folder.prompts) {
    if (!SLUG.test(p.name)) {
      refusals.push(`${p.rel}: "${p.name}" cannot be a platform prompt slug (${GRAMMAR}); rename the file`);
      continue;
    }
    const declared = new Set(p.arguments.map((a) => a.name));
    const undeclared = [...new Set(placeholders(p.body))].filter((n) => !declared.has(n));
    if (undeclared.length) {
      refusals.push(`${p.rel}: uses ${undeclared.map((n) => `{{${n}}}`).join(", ")}, not declared in its frontmatter "arguments" (the platform requires it)`);
      continue;
    }
    assets.push({
      kind: "prompt",
      file: p.rel,
      slug: p.name,
      body: {
        name: p.name,
        slug: p.name,
        description: p.description ?? "",
        // completion values travel with their argument, as the platform keeps them
        arguments: p.arguments.map((a) => (p.values[a.name] ? { ...a, values: p.values[a.name] } : a)),
        messages: [...p.messages, ...(p.body ? [{ role: "user", content: p.body }] : [])],
      },
    });
  }
  return { assets, refusals, warnings };
}
