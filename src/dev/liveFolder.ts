/**
 * The folder being served, kept current: a change on disk reloads it (debounced),
 * swaps in the new contents for the requests that come after, recycles the
 * native workers when code changed (a fresh module registry, so edited helpers
 * count too), and tells every session what changed: `list_changed` for tools,
 * resources and prompts, `resources/updated` for subscribed resources.
 */
import { watch, type FSWatcher } from "node:fs";
import type { SessionStore } from "../mcp/session.ts";
import { loadContext } from "./contextFile.ts";
import type { LoadedFolder } from "./devCatalog.ts";
import { loadFolder, type BrokenFile, type DevFolder } from "./folder.ts";

/** The session group every dev session belongs to. */
export const DEV_GROUP = "dev";

const CODE_FILE = /\.(m|c)?[jt]sx?$|(^|\/)package\.json$/;
const IGNORED = /(^|\/)(node_modules|\.git|dist)(\/|$)/;
const DEBOUNCE_MS = 80;

/** Loads the folder and its context function. */
export async function loadAll(dir: string, stamp: string): Promise<LoadedFolder> {
  const folder = await loadFolder(dir, stamp);
  if (!folder.context) return { folder };
  const context = await loadContext(folder.context);
  if (typeof context === "function") return { folder, context };
  return { folder: { ...folder, broken: [...folder.broken, context] } };
}

function digests(f: DevFolder) {
  return {
    tools: JSON.stringify(f.tools.map((t) => [t.listing, t.version])),
    resources: JSON.stringify(f.resources.map((r) => [r.uri, r.mimeType])),
    prompts: JSON.stringify(f.prompts.map((p) => [p.name, p.description, p.arguments, p.body])),
  };
}

/** What one reload changed. */
export interface Reloaded {
  changed: string[];
  broken: BrokenFile[];
  codeChanged: boolean;
}

/** The served folder, reloaded as its files change. */
export class LiveFolder {
  private watcher: FSWatcher | undefined;
  private timer: Timer | undefined;
  private pendingCode = false;
  private reloads = 0;
  private running: Promise<void> = Promise.resolve();

  private constructor(
    readonly dir: string,
    public current: LoadedFolder,
    private readonly sessions: SessionStore,
    private readonly onReload: (r: Reloaded) => void | Promise<void>,
  ) {}

  static async open(dir: string, sessions: SessionStore, onReload: (r: Reloaded) => void | Promise<void>): Promise<LiveFolder> {
    return new LiveFolder(dir, await loadAll(dir, "0"), sessions, onReload);
  }

  /** Starts watching the folder (recursively). */
  watch(onError: (err: unknown) => void): void {
    this.watcher = watch(this.dir, { recursive: true }, (_event, name) => {
      const path = String(name ?? "").split("\\").join("/");
      if (IGNORED.test(path)) return;
      if (!path || CODE_FILE.test(path)) this.pendingCode = true;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.reload().catch(onError), DEBOUNCE_MS);
    });
    this.watcher.on("error", onError);
  }

  /** Reloads now (one reload at a time; a change during one reloads again after it). */
  reload(): Promise<void> {
    this.running = this.running.then(() => this.reloadOnce());
    return this.running;
  }

  private async reloadOnce(): Promise<void> {
    const codeChanged = this.pendingCode;
    this.pendingCode = false;
    const was = this.current;
    const now = await loadAll(this.dir, String(++this.reloads));
    this.current = now;
    const before = digests(was.folder);
    const after = digests(now.folder);
    const changed: string[] = [];
    if (before.tools !== after.tools) changed.push("notifications/tools/list_changed");
    if (before.resources !== after.resources) changed.push("notifications/resources/list_changed");
    if (before.prompts !== after.prompts) changed.push("notifications/prompts/list_changed");
    const versions = new Map(was.folder.resources.map((r) => [r.uri, r.version]));
    const updated = new Set(now.folder.resources.filter((r) => versions.has(r.uri) && versions.get(r.uri) !== r.version).map((r) => r.uri));
    for (const s of this.sessions.inGroup(DEV_GROUP)) {
      for (const method of changed) s.outbox.send({ jsonrpc: "2.0", method });
      for (const uri of s.subscriptions) if (updated.has(uri)) s.outbox.send({ jsonrpc: "2.0", method: "notifications/resources/updated", params: { uri } });
    }
    await this.onReload({ changed, broken: now.folder.broken, codeChanged });
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
  }
}
