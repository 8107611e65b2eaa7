/**
 * One actor per hosted server this process serves: it holds the resolved
 * definition, reloads it when the org's assets change (announced on the change
 * bus), and fans the difference out to the server's sessions — list_changed for
 * tools, resources and prompts, resources/updated for subscribed URIs — and cuts
 * off sessions opened with a token that has since been rotated, or of a deleted server.
 * Reloads of one server run one at a time (its mailbox); servers are independent.
 */
import type { Db } from "../database/index.ts";
import { loadDefinition, serverByToken, type ServerDefinition } from "../hosted/definition.ts";
import { publish, type Published } from "../hosted/catalog.ts";
import type { SessionStore } from "../mcp/session.ts";
import { hashToken } from "../platform/token.ts";

/** A server as served right now. */
export interface LiveServer {
  def: ServerDefinition;
  published: Published;
}

interface Actor {
  orgId: string;
  current: Promise<LiveServer | undefined>;
  /** Digests of what the lists show and of each resource's content, to tell what changed. */
  digests?: { tools: string; resources: string; prompts: string; contents: Map<string, string> };
}

function digestsOf(live: LiveServer) {
  return {
    tools: JSON.stringify(live.published.tools.map((t) => t.listing)),
    resources: JSON.stringify(live.published.resources),
    prompts: JSON.stringify(live.published.prompts),
    contents: new Map(live.def.resources.map((r) => [r.uri, `${r.mimeType}\u0000${r.text ?? ""}\u0000${r.blob ?? ""}`])),
  };
}

/** The session owner string for a server and the token hash it was opened with. */
export function sessionOwner(serverId: string, tokenHash: string): string {
  return `${serverId}:${tokenHash}`;
}

/** The hosted servers of this process. */
export class ServerActors {
  private readonly actors = new Map<string, Actor>();
  /** token hash → server, so a request costs no query; dropped on any change of the org. */
  private readonly tokens = new Map<string, { serverId: string; orgId: string }>();

  constructor(
    private readonly db: Db,
    private readonly sessions: SessionStore,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** The live server a bearer token opens, or undefined. */
  async authenticate(token: string): Promise<{ serverId: string; orgId: string; tokenHash: string } | undefined> {
    const tokenHash = hashToken(token);
    const hit = this.tokens.get(tokenHash);
    if (hit) return { ...hit, tokenHash };
    const row = await serverByToken(this.db, token);
    if (!row) return undefined;
    if (this.tokens.size > 10_000) this.tokens.clear();
    this.tokens.set(tokenHash, { serverId: row.id, orgId: row.orgId });
    return { serverId: row.id, orgId: row.orgId, tokenHash };
  }

  /** The server's current definition (loaded on first use). */
  async get(serverId: string, orgId: string): Promise<LiveServer | undefined> {
    let actor = this.actors.get(serverId);
    if (!actor) {
      const a: Actor = { orgId, current: Promise.resolve(undefined) };
      a.current = this.load(serverId).then(
        (live) => {
          if (live) a.digests = digestsOf(live);
          else if (this.actors.get(serverId) === a) this.actors.delete(serverId);
          return live;
        },
        (err) => {
          if (this.actors.get(serverId) === a) this.actors.delete(serverId);
          throw err;
        },
      );
      this.actors.set(serverId, (actor = a));
    }
    return actor.current;
  }

  /** The org's assets changed: forget its tokens and reload its servers. */
  orgChanged(orgId: string): void {
    for (const [hash, t] of this.tokens) if (t.orgId === orgId) this.tokens.delete(hash);
    for (const [serverId, actor] of this.actors) {
      if (actor.orgId !== orgId) continue;
      // the mailbox: this reload starts after the previous one settled
      actor.current = actor.current.catch(() => undefined).then(() => this.reload(serverId, actor));
    }
  }

  private async load(serverId: string): Promise<LiveServer | undefined> {
    const def = await loadDefinition(this.db, serverId);
    return def ? { def, published: publish(def) } : undefined;
  }

  private async reload(serverId: string, actor: Actor): Promise<LiveServer | undefined> {
    let live: LiveServer | undefined;
    try {
      live = await this.load(serverId);
    } catch (err) {
      this.onError(err);
      this.actors.delete(serverId); // the next request loads afresh
      return undefined;
    }
    if (!live) {
      this.sessions.closeWhere(serverId, () => false);
      this.actors.delete(serverId);
      return undefined;
    }
    const owner = sessionOwner(serverId, live.def.server.tokenHash);
    this.sessions.closeWhere(serverId, (s) => s.owner === owner);
    const before = actor.digests;
    const after = digestsOf(live);
    actor.digests = after;
    if (before) this.announce(serverId, before, after);
    return live;
  }

  private announce(serverId: string, before: NonNullable<Actor["digests"]>, after: NonNullable<Actor["digests"]>): void {
    const changed: string[] = [];
    if (before.tools !== after.tools) changed.push("notifications/tools/list_changed");
    if (before.resources !== after.resources) changed.push("notifications/resources/list_changed");
    if (before.prompts !== after.prompts) changed.push("notifications/prompts/list_changed");
    const updated = [...after.contents].filter(([uri, d]) => before.contents.has(uri) && before.contents.get(uri) !== d).map(([uri]) => uri);
    if (!changed.length && !updated.length) return;
    for (const s of this.sessions.inGroup(serverId)) {
      const send = (m: unknown) => {
        for (const stream of s.streams) stream.send(m);
      };
      for (const method of changed) send({ jsonrpc: "2.0", method });
      for (const uri of updated) if (s.subscriptions.has(uri)) send({ jsonrpc: "2.0", method: "notifications/resources/updated", params: { uri } });
    }
  }
}
