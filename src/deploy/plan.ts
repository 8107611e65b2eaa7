/**
 * A deploy's plan: the folder's assets against what the platform holds for the
 * server, field by field, as a list of creates, updates (only the fields that
 * differ) and deletes. Only assets attached to the server are matched, updated or
 * deleted; an org asset elsewhere that holds a slug the folder needs is a conflict,
 * reported before anything is written.
 */
import type { AssetKind, FolderAsset } from "./folderAssets.ts";

/** An asset as the platform's REST views show it (the fields a deploy compares). */
export type AssetView = Record<string, unknown> & { id: string; slug: string; uri?: string };

/** The server's detail (`GET /mcp/servers/:id`): its record and attached assets. */
export interface ServerDetail {
  server: { id: string; slug: string; name: string; description: string; mcpEndpoint: string };
  tools: { id: string; toolId: string; toolSlug: string }[];
  resources: { id: string; slug: string; uri: string }[];
  prompts: { id: string; slug: string }[];
}

/** What the platform holds: the server (absent: not created yet) and the org's live assets. */
export interface PlatformState {
  server?: ServerDetail;
  org: Record<AssetKind, AssetView[]>;
}

/** One write of the plan. */
export type Change =
  | { op: "create"; asset: FolderAsset }
  | { op: "update"; asset: FolderAsset; id: string; patch: Record<string, unknown> }
  | { op: "delete"; kind: AssetKind; id: string; slug: string; label: string };

/** The plan: changes to assets, the server's own fields to set, and any conflicts. */
export interface Plan {
  changes: Change[];
  /** Ids the server keeps for assets the folder still has and that do not change. */
  kept: Record<AssetKind, string[]>;
  /** The server's name/description when they differ (or everything, for a server to create). */
  serverFields: Record<string, string>;
  conflicts: string[];
}

/** JSON with object keys sorted, so two values compare whatever order a database kept their keys in. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, (x as Record<string, unknown>)[k]])) : x,
  );
}

/** Whether two JSON values are equal (undefined as null, key order ignored). */
export function sameValue(a: unknown, b: unknown): boolean {
  return canonical(a ?? null) === canonical(b ?? null);
}

/** The fields of `body` whose value on the platform differs. */
function differences(body: Record<string, unknown>, view: AssetView): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (!sameValue(v, view[k])) patch[k] = v;
  return patch;
}

/** The attached assets of each kind: id, and the key a folder asset matches them by (tool/prompt slug, resource uri). */
function attached(server: ServerDetail | undefined): Record<AssetKind, { id: string; key: string }[]> {
  return {
    tool: (server?.tools ?? []).map((a) => ({ id: a.toolId, key: a.toolSlug })),
    resource: (server?.resources ?? []).map((r) => ({ id: r.id, key: r.uri })),
    prompt: (server?.prompts ?? []).map((p) => ({ id: p.id, key: p.slug })),
  };
}

const keyOf = (a: FolderAsset) => (a.kind === "resource" ? a.uri! : a.slug);

/** Compares the folder with the platform. */
export function planDeploy(assets: FolderAsset[], state: PlatformState, server: { slug: string; name: string; description: string }): Plan {
  const on = attached(state.server);
  const changes: Change[] = [];
  const conflicts: string[] = [];
  const kept: Plan["kept"] = { tool: [], resource: [], prompt: [] };
  const matched = new Set<string>();

  for (const asset of assets) {
    const hit = on[asset.kind].find((a) => a.key === keyOf(asset));
    const view = hit ? state.org[asset.kind].find((v) => v.id === hit.id) : undefined;
    const clash = state.org[asset.kind].find((v) => v.id !== view?.id && (v.slug === asset.slug || (asset.uri !== undefined && v.uri === asset.uri)));
    if (clash) {
      const what = clash.slug === asset.slug ? `slug "${asset.slug}"` : `uri ${asset.uri}`;
      conflicts.push(`${asset.file}: the org already has a ${asset.kind} with ${what} that is not on server "${server.slug}"; rename the file, or delete or rename that ${asset.kind}`);
      continue;
    }
    if (!view) {
      changes.push({ op: "create", asset });
      continue;
    }
    matched.add(view.id);
    const patch = differences(asset.body, view);
    if (Object.keys(patch).length) changes.push({ op: "update", asset, id: view.id, patch });
    else kept[asset.kind].push(view.id);
  }

  for (const kind of ["tool", "resource", "prompt"] as const) {
    for (const a of on[kind]) {
      if (matched.has(a.id)) continue;
      matched.add(a.id); // a tool attached twice (two aliases) is deleted once
      const view = state.org[kind].find((v) => v.id === a.id);
      changes.push({ op: "delete", kind, id: a.id, slug: view?.slug ?? a.key, label: kind === "resource" ? a.key : (view?.slug ?? a.key) });
    }
  }

  const current = state.server?.server;
  const serverFields: Record<string, string> = {};
  if (!current || current.name !== server.name) serverFields.name = server.name;
  if (!current || (current.description ?? "") !== server.description) serverFields.description = server.description;
  return { changes, kept, serverFields, conflicts };
}
