/**
 * One Effect actor per hosted server this process serves. The actor holds the
 * resolved definition; its mailbox takes Load/Reload messages (a change of the
 * org's assets, announced on the change bus), so reloads of one server run one at
 * a time while servers stay independent. After a reload it fans the difference
 * out to the server's sessions — list_changed for tools, resources and prompts,
 * resources/updated for subscribed URIs — and ends sessions opened with a token
 * that has since been rotated, or of a deleted server. Requests read the current
 * definition without a hop through the mailbox.
 */
import { Context, Deferred, Effect, Fiber, Layer, Queue } from "effect";
import type { Db } from "../database/index.ts";
import { publish, type Published } from "../hosted/catalog.ts";
import { loadDefinition, serverByToken, type ServerDefinition } from "../hosted/definition.ts";
import type { SessionStore } from "../mcp/session.ts";
import { hashToken } from "../platform/token.ts";

/** A server as served right now. */
export interface LiveServer {
  def: ServerDefinition;
  published: Published;
}

/** The messages a server actor understands. */
type ServerMessage = { _tag: "Load" } | { _tag: "Reload" };

type Digests = { tools: string; resources: string; prompts: string };

interface Actor {
  orgId: string;
  /** When a request last used the server (ms); an actor idle past the session TTL with no sessions is evicted. */
  lastUsed: number;
  queue: Queue.Queue<ServerMessage>;
  fiber?: Fiber.Fiber<never, unknown>;
  /** Settled once the first load finished. */
  ready: Deferred.Deferred<LiveServer | undefined>;
  live?: LiveServer;
  /** Reloads queued and not yet done: while any is, requests wait for it (a client sees a change once its operation has returned). */
  pending: number;
  /** A reload is queued and has not started: later changes ride on it (it reads what they committed). */
  reloadQueued: boolean;
  /** Resolves when `pending` falls back to 0. */
  settled?: { promise: Promise<void>; resolve(): void };
}

/** One reload of the actor finished (or was dropped). */
function reloadDone(actor: Actor): void {
  if (--actor.pending > 0) return;
  actor.pending = 0;
  actor.settled?.resolve();
  actor.settled = undefined;
}

function digestsOf(live: LiveServer): Digests {
  return {
    tools: JSON.stringify([live.def.server.mode, live.published.tools.map((t) => t.listing)]),
    resources: JSON.stringify([live.published.resources, live.published.index.templateListing]),
    prompts: JSON.stringify(live.published.prompts),
  };
}

/** What the content of `uri` depends on: the resource serving it (plain or template), its stored content and its tool's version. */
function contentDigest(live: LiveServer, uri: string): string | undefined {
  const hit = live.published.index.resolve(uri);
  if (!hit) return undefined;
  const r = hit.resource;
  const tool = r.toolId ? live.def.backing.get(r.toolId)?.tool : undefined;
  return [r.id, r.mimeType, r.text, r.blob, tool ? `${tool.id}:${tool.version}` : ""].join("\u0000");
}

/** The session owner string for a server and the token hash it was opened with. */
export function sessionOwner(serverId: string, tokenHash: string): string {
  return `${serverId}:${tokenHash}`;
}

/** What a server's bearer token opens, and the owner of the sessions opened with it. */
export interface TokenHit {
  serverId: string;
  orgId: string;
  tokenHash: string;
  owner: string;
}

/** The registry of hosted-server actors. */
export interface ServerActorsShape {
  /** The live server a bearer token opens, or undefined. */
  authenticate(token: string): Promise<TokenHit | undefined>;
  /** The server's current definition (spawning its actor and loading it on first use). */
  get(serverId: string, orgId: string): Promise<LiveServer | undefined>;
  /** Without waiting: the server a cached token opens and its loaded definition, or undefined (then use authenticate and get). */
  peek(token: string): { hit: TokenHit; live: LiveServer } | undefined;
  /** The org's assets changed: forget its tokens and tell its servers' actors to reload. */
  orgChanged(orgId: string): void;
  /** Stops actors of servers unused for `idleMs` that hold no session; they load again on the next request. */
  evictIdle(idleMs: number, now?: number): Effect.Effect<void>;
  readonly size: number;
}

/** Service tag for the server actor registry. */
export class ServerActors extends Context.Service<ServerActors, ServerActorsShape>()("dzx/ServerActors") {}

/** What the registry needs from the rest of the process. */
export interface ServerActorDeps {
  db: Db;
  sessions: SessionStore;
  onError(err: unknown): void;
  /** What a definition's load served around (a companion tool skipped), each time it loads. */
  onWarning?(serverId: string, message: string): void;
}

/** Builds the registry; `run` forks an effect on the process runtime. */
export function makeServerActors(deps: ServerActorDeps, run: <A>(effect: Effect.Effect<A>) => Promise<A>): ServerActorsShape {
  const actors = new Map<string, Actor>();
  /** token hash → server, so a request costs no query; dropped on any change of the org. */
  const tokens = new Map<string, TokenHit>();

  const load = (serverId: string) =>
    Effect.tryPromise(async () => {
      const def = await loadDefinition(deps.db, serverId);
      for (const w of def?.warnings ?? []) deps.onWarning?.(serverId, w);
      return def ? { def, published: publish(def) } : undefined;
    });

  function announce(serverId: string, was: LiveServer, now: LiveServer): void {
    const before = digestsOf(was);
    const after = digestsOf(now);
    const changed: string[] = [];
    if (before.tools !== after.tools) changed.push("notifications/tools/list_changed");
    if (before.resources !== after.resources) changed.push("notifications/resources/list_changed");
    if (before.prompts !== after.prompts) changed.push("notifications/prompts/list_changed");
    // a subscribed URI changed when what serves it did (a template serves many URIs)
    const subscribed = new Set(deps.sessions.inGroup(serverId).flatMap((s) => [...s.subscriptions]));
    const updated = [...subscribed].filter((uri) => {
      const b = contentDigest(was, uri);
      return b !== undefined && b !== contentDigest(now, uri);
    });
    if (!changed.length && !updated.length) return;
    for (const s of deps.sessions.inGroup(serverId)) {
      for (const method of changed) s.outbox.send({ jsonrpc: "2.0", method });
      for (const uri of updated) if (s.subscriptions.has(uri)) s.outbox.send({ jsonrpc: "2.0", method: "notifications/resources/updated", params: { uri } });
    }
  }

  /** Stops an actor whose server is gone (or failed to load), ending its sessions. */
  const retire = (serverId: string, actor: Actor) =>
    Effect.gen(function* () {
      if (actors.get(serverId) === actor) actors.delete(serverId);
      deps.sessions.closeWhere(serverId, () => false);
      actor.live = undefined;
      actor.pending = 1;
      reloadDone(actor);
      yield* Deferred.succeed(actor.ready, undefined);
      if (actor.fiber) yield* Fiber.interrupt(actor.fiber);
    });

  const handle = (serverId: string, actor: Actor, msg: ServerMessage) =>
    Effect.gen(function* () {
      const live = yield* load(serverId).pipe(Effect.catch((err: unknown) => Effect.sync(() => void deps.onError(err)).pipe(Effect.as("failed" as const))));
      // a failed reload keeps serving what was loaded; the next change retries
      if (live === "failed" && actor.live) return;
      if (live === "failed" || live === undefined) return yield* retire(serverId, actor);
      const owner = sessionOwner(serverId, live.def.server.tokenHash);
      deps.sessions.closeWhere(serverId, (s) => s.owner === owner);
      const was = actor.live;
      actor.live = live;
      if (msg._tag === "Reload" && was) announce(serverId, was, live);
      yield* Deferred.succeed(actor.ready, live);
    });

  const spawn = (serverId: string, orgId: string) =>
    Effect.gen(function* () {
      const actor: Actor = { orgId, lastUsed: Date.now(), queue: yield* Queue.unbounded<ServerMessage>(), ready: yield* Deferred.make<LiveServer | undefined>(), pending: 0, reloadQueued: false };
      actors.set(serverId, actor);
      yield* Queue.offer(actor.queue, { _tag: "Load" });
      const step = (msg: ServerMessage) =>
        msg._tag === "Reload"
          ? Effect.andThen(
              Effect.sync(() => void (actor.reloadQueued = false)),
              handle(serverId, actor, msg).pipe(Effect.ensuring(Effect.sync(() => reloadDone(actor)))),
            )
          : handle(serverId, actor, msg);
      actor.fiber = yield* Effect.forkDetach(Effect.forever(Effect.flatMap(Queue.take(actor.queue), step)));
      return actor;
    });

  return {
    async authenticate(token) {
      const tokenHash = hashToken(token);
      const hit = tokens.get(tokenHash);
      if (hit) return hit;
      const row = await serverByToken(deps.db, token);
      if (!row) return undefined;
      if (tokens.size > 10_000) tokens.clear();
      const made = { serverId: row.id, orgId: row.orgId, tokenHash, owner: sessionOwner(row.id, tokenHash) };
      tokens.set(tokenHash, made);
      return made;
    },
    peek(token) {
      const hit = tokens.get(hashToken(token));
      const actor = hit && actors.get(hit.serverId);
      const live = actor && !actor.pending && actor.live;
      if (!live) return undefined;
      actor.lastUsed = Date.now();
      return { hit, live };
    },
    async get(serverId, orgId) {
      const actor = actors.get(serverId) ?? (await run(spawn(serverId, orgId)));
      actor.lastUsed = Date.now();
      if (actor.settled) await actor.settled.promise;
      return actor.live ?? run(Deferred.await(actor.ready));
    },
    orgChanged(orgId) {
      for (const [hash, t] of tokens) if (t.orgId === orgId) tokens.delete(hash);
      for (const actor of actors.values()) {
        // a reload still waiting in the mailbox will read this change too: a burst of writes costs one reload
        if (actor.orgId !== orgId || actor.reloadQueued) continue;
        actor.reloadQueued = true;
        actor.pending++;
        if (!actor.settled) {
          let resolve!: () => void;
          const promise = new Promise<void>((r) => (resolve = r));
          actor.settled = { promise, resolve };
        }
        Queue.offerUnsafe(actor.queue, { _tag: "Reload" });
      }
    },
    evictIdle: (idleMs, now = Date.now()) =>
      Effect.gen(function* () {
        for (const [serverId, actor] of actors) {
          if (now - actor.lastUsed <= idleMs || deps.sessions.inGroup(serverId).length > 0) continue;
          actors.delete(serverId);
          actor.settled?.resolve();
          if (actor.fiber) yield* Fiber.interrupt(actor.fiber);
        }
      }),
    get size() {
      return actors.size;
    },
  };
}

/** Layer of the registry, run on the process runtime; idle actors are swept as often as sessions expire. */
export function serverActorsLayer(deps: ServerActorDeps & { idleMs: number }) {
  return Layer.effect(
    ServerActors,
    Effect.gen(function* () {
      const context = yield* Effect.context<never>();
      const registry = makeServerActors(deps, (effect) => Effect.runPromiseWith(context)(effect));
      const every = Math.max(250, Math.min(60_000, Math.floor(deps.idleMs / 4)));
      yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.sleep(every), Effect.suspend(() => registry.evictIdle(deps.idleMs)))));
      return registry;
    }),
  );
}
