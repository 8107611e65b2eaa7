/**
 * `dzx deploy`: a dev folder's tools, resources and prompts, and a hosted server
 * that exposes them, made to match the folder on a dzx platform through its
 * management REST API only (issue 16.3). Everything that could stop the deploy —
 * broken files, tools the sandbox cannot run, slugs taken elsewhere in the org —
 * is found before the first write; a second deploy of an unchanged folder writes nothing.
 */
import { resolve } from "node:path";
import { loadFolder } from "../dev/folder.ts";
import { connectionLines } from "./connection.ts";
import { folderAssets, type AssetKind, type FolderAsset } from "./folderAssets.ts";
import { planDeploy, type AssetView, type Change, type PlatformState, type ServerDetail } from "./plan.ts";
import { PlatformClient } from "./platformClient.ts";

/** The deploy was stopped before anything was written; the message lists why. */
export class DeployRefused extends Error {}

/** What to deploy where. */
export interface DeployOptions {
  dir: string;
  /** The hosted server's slug. */
  server: string;
  /** The platform's base URL (no trailing slash). */
  url: string;
  key: string;
  say(line: string): void;
}

const KINDS: AssetKind[] = ["tool", "resource", "prompt"];
const PATHS: Record<AssetKind, string> = { tool: "/tools", resource: "/resources", prompt: "/prompts" };
const plural = (kind: AssetKind) => `${kind}s`;
const count = (n: number, kind: string) => `${n} ${kind}${n === 1 ? "" : "s"}`;

/** The server and the org's assets of the kinds this deploy involves. */
async function readState(client: PlatformClient, slug: string, assets: FolderAsset[]): Promise<PlatformState> {
  const server = await client.request<ServerDetail>("GET", `/mcp/servers/${encodeURIComponent(slug)}`, `reading server "${slug}"`, undefined, { allow404: true });
  const org = { tool: [], resource: [], prompt: [] } as PlatformState["org"];
  for (const kind of KINDS) {
    const involved = assets.some((a) => a.kind === kind) || (server ? attachedIds(server)[kind].length > 0 : false);
    if (involved) org[kind] = await client.list<AssetView>(PATHS[kind], plural(kind), `reading the org's ${plural(kind)}`);
  }
  return { ...(server ? { server } : {}), org };
}

/** The ids attached to the server, per kind. */
function attachedIds(detail: ServerDetail): Record<AssetKind, string[]> {
  return { tool: [...new Set(detail.tools.map((t) => t.toolId))], resource: detail.resources.map((r) => r.id), prompt: detail.prompts.map((p) => p.id) };
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));
const idLists = (ids: Record<AssetKind, string[]>) => ({ toolIds: ids.tool, resourceIds: ids.resource, promptIds: ids.prompt });
const named = (a: FolderAsset) => `${a.kind} "${a.slug}" (${a.file})`;

/** Runs the deploy, reporting each step through `say`. */
export async function deploy(o: DeployOptions): Promise<void> {
  const dir = resolve(o.dir);
  const folder = await loadFolder(dir);
  const { assets, refusals, warnings } = await folderAssets(folder);
  if (refusals.length) throw new DeployRefused(`deploy refused, nothing was written — ${o.dir} has ${count(refusals.length, "problem")}:\n  ${refusals.join("\n  ")}`);
  for (const w of warnings) o.say(`warning: ${w}`);

  const client = new PlatformClient(o.url, o.key, o.say);
  const state = await readState(client, o.server, assets);
  const spec = { slug: o.server, name: folder.manifest.name, description: folder.manifest.description ?? "" };
  const plan = planDeploy(assets, state, spec);
  if (plan.conflicts.length) throw new DeployRefused(`deploy refused, nothing was written:\n  ${plan.conflicts.join("\n  ")}`);

  if (state.server && plan.changes.length === 0 && Object.keys(plan.serverFields).length === 0) {
    const n = KINDS.map((k) => count(assets.filter((a) => a.kind === k).length, k)).join(", ");
    o.say(`No changes: server "${o.server}" on ${o.url} already matches ${o.dir} (${n}).`);
    for (const line of connectionLines({ url: o.url, slug: o.server, serverId: state.server.server.id, endpoint: state.server.server.mcpEndpoint })) o.say(line);
    return;
  }

  let detail = state.server;
  let token: string | undefined;
  if (!detail) {
    const created = (await client.request<ServerDetail & { bearerToken: string }>("POST", "/mcp/servers", `creating server "${o.server}"`, { slug: o.server, ...plan.serverFields }))!;
    detail = created;
    token = created.bearerToken;
    o.say(`created server "${o.server}"`);
  }
  const serverId = detail.server.id;
  const before = attachedIds(detail);
  const ids: Record<AssetKind, string[]> = { tool: [...plan.kept.tool], resource: [...plan.kept.resource], prompt: [...plan.kept.prompt] };
  const created: Record<AssetKind, string[]> = { tool: [], resource: [], prompt: [] };
  const tally = { created: 0, updated: 0, deleted: 0 };

  try {
    for (const c of plan.changes) {
      if (c.op === "create") {
        const r = await client.request("POST", PATHS[c.asset.kind], `creating ${named(c.asset)}`, c.asset.body);
        const id = r[c.asset.kind].id as string;
        ids[c.asset.kind].push(id);
        created[c.asset.kind].push(id);
        tally.created++;
        o.say(`created ${named(c.asset)}`);
      } else if (c.op === "update") {
        await client.request("PATCH", `${PATHS[c.asset.kind]}/${c.id}`, `updating ${named(c.asset)}`, c.patch);
        ids[c.asset.kind].push(c.id);
        tally.updated++;
        o.say(`updated ${named(c.asset)}: ${Object.keys(c.patch).join(", ")}`);
      }
    }
  } catch (err) {
    // what was created is attached, so the next deploy finds it on the server rather than calling it a conflict
    if (KINDS.some((k) => created[k].length)) {
      const keep = Object.fromEntries(KINDS.map((k) => [k, [...before[k], ...created[k]]])) as Record<AssetKind, string[]>;
      await client.request("PATCH", `/mcp/servers/${serverId}`, `attaching what was created to server "${o.server}"`, idLists(keep)).catch(() => {});
    }
    throw err;
  }

  const setsChanged = KINDS.some((k) => !sameSet(ids[k], before[k]));
  const patch = { ...(state.server ? plan.serverFields : {}), ...(setsChanged ? idLists(ids) : {}) };
  if (Object.keys(patch).length) {
    await client.request("PATCH", `/mcp/servers/${serverId}`, `updating server "${o.server}"`, patch);
    if (state.server) o.say(`updated server "${o.server}": ${[...Object.keys(plan.serverFields), ...(setsChanged ? ["attached assets"] : [])].join(", ")}`);
  }

  for (const c of plan.changes.filter((x): x is Extract<Change, { op: "delete" }> => x.op === "delete")) {
    await client.request("DELETE", `${PATHS[c.kind]}/${c.id}`, `deleting ${c.kind} "${c.slug}"`, undefined, { allow404: true });
    tally.deleted++;
    o.say(`deleted ${c.kind} "${c.label}" (its file is gone: detached from the server and soft-deleted)`);
  }

  const unchanged = KINDS.reduce((n, k) => n + plan.kept[k].length, 0);
  o.say(`Deployed ${o.dir} to server "${o.server}" on ${o.url}: ${tally.created} created, ${tally.updated} updated, ${tally.deleted} deleted, ${unchanged} unchanged.`);
  for (const line of connectionLines({ url: o.url, slug: o.server, serverId, endpoint: detail.server.mcpEndpoint, ...(token ? { token } : {}) })) o.say(line);
}
