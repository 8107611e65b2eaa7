/**
 * Sessions of the initialize lane: issued on initialize, echoed as Mcp-Session-Id.
 * A session remembers what the protocol needs between requests: its log level,
 * resource subscriptions, requests in flight (for cancellation), requests it sent
 * the client, and the open server-to-client streams notifications are pushed on.
 */
import { ClientRequestTable } from "./clientRequestTable.ts";
import { RpcCode, RpcError } from "./jsonrpc.ts";

/** A server-to-client message channel (a GET stream, a legacy SSE stream). */
export interface SessionStream {
  send(message: unknown): void;
  close(): void;
}

/**
 * Where a session's server-initiated messages go: notifications of the server, and
 * the notifications and requests of calls that have no stream of their own. By
 * default every open stream of the session; a transport that numbers and keeps
 * them for resumption puts its own here.
 */
export interface Outbox {
  send(message: unknown): void;
  /** Whether a client reads the session's stream right now. */
  readonly connected: boolean;
}

/** What the server remembers about one client connection. */
export interface Session {
  id: string;
  protocolVersion: string;
  clientInfo: unknown;
  /** What the client declared in initialize. */
  clientCapabilities: Record<string, unknown> | undefined;
  logLevel: string;
  createdAt: number;
  lastSeenAt: number;
  /** Opaque owner (e.g. the key, or the server and token, that opened it): a session is only usable by its owner. */
  owner: string;
  /** Sessions of one group (a hosted server) share the per-group cap and are notified together. */
  group: string;
  streams: Set<SessionStream>;
  outbox: Outbox;
  /** Requests sent to the client and not yet answered; made on the first. */
  clientRequests?: ClientRequestTable;
  /** Requests being served, by JSON-RPC id, so notifications/cancelled can abort them. */
  inflight: Map<string, { abort(reason?: unknown): void }>;
  /** Resource URIs the client subscribed to. */
  subscriptions: Set<string>;
}

/** Session settings. */
export interface SessionStoreOptions {
  ttlMs?: number;
  /** Live sessions one group may hold; initialize past it is refused. */
  maxPerGroup?: number;
  now?: () => number;
}

/** An in-process session table (sessions live on the process that created them). */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly ttlMs: number;
  private readonly maxPerGroup: number;
  private readonly now: () => number;

  constructor(opts: SessionStoreOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 30 * 60_000;
    this.maxPerGroup = opts.maxPerGroup ?? Number.POSITIVE_INFINITY;
    this.now = opts.now ?? Date.now;
  }

  /** Opens a session; refuses when the group is at its cap. */
  open(owner: string, protocolVersion: string, clientInfo: unknown, clientCapabilities: Record<string, unknown> | undefined, group = owner): Session {
    this.sweep();
    if (Number.isFinite(this.maxPerGroup) && this.inGroup(group).length >= this.maxPerGroup) {
      throw new RpcError(RpcCode.InvalidRequest, `Too many sessions: this server already has ${this.maxPerGroup} open; end one (DELETE) or wait for idle ones to expire`);
    }
    const t = this.now();
    const streams = new Set<SessionStream>();
    const s: Session = {
      id: crypto.randomUUID().replace(/-/g, ""),
      protocolVersion,
      clientInfo,
      clientCapabilities,
      logLevel: "info",
      createdAt: t,
      lastSeenAt: t,
      owner,
      group,
      streams,
      outbox: {
        send: (m) => {
          for (const stream of streams) stream.send(m);
        },
        get connected() {
          return streams.size > 0;
        },
      },
      inflight: new Map(),
      subscriptions: new Set(),
    };
    this.sessions.set(s.id, s);
    return s;
  }

  /** The live session with this id and owner, refreshed; undefined when unknown, expired or another owner's. */
  get(id: string, owner: string): Session | undefined {
    const s = this.sessions.get(id);
    if (!s || s.owner !== owner) return undefined;
    if (this.expired(s)) {
      this.end(s);
      return undefined;
    }
    s.lastSeenAt = this.now();
    return s;
  }

  /** Ends a session; false when it did not exist. */
  close(id: string, owner: string): boolean {
    const s = this.sessions.get(id);
    if (!s || s.owner !== owner) return false;
    this.end(s);
    return true;
  }

  /** Live sessions of a group. */
  inGroup(group: string): Session[] {
    return [...this.sessions.values()].filter((s) => s.group === group);
  }

  /** Ends every session of a group that `keep` rejects (rotation, deletion). */
  closeWhere(group: string, keep: (s: Session) => boolean): number {
    let n = 0;
    for (const s of this.inGroup(group)) {
      if (!keep(s)) {
        this.end(s);
        n++;
      }
    }
    return n;
  }

  /** Drops idle sessions; a session with an open stream is not idle. */
  sweep(): void {
    for (const s of this.sessions.values()) if (this.expired(s)) this.end(s);
  }

  /** Ends every session (shutdown). */
  closeAll(): void {
    for (const s of this.sessions.values()) this.end(s);
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Server-to-client streams open across every session (a drain waits for every other response). */
  get openStreams(): number {
    let n = 0;
    for (const s of this.sessions.values()) n += s.streams.size;
    return n;
  }

  /** Idle: no open stream and no request running (a call may wait minutes for its client to answer it). */
  private expired(s: Session): boolean {
    return s.streams.size === 0 && s.inflight.size === 0 && this.now() - s.lastSeenAt > this.ttlMs;
  }

  private end(s: Session): void {
    this.sessions.delete(s.id);
    // before the calls are stopped: a client that is gone is not told their questions are withdrawn
    s.clientRequests?.rejectAll("the session ended");
    for (const c of s.inflight.values()) c.abort(new Error("session ended"));
    for (const stream of s.streams) stream.close();
    s.streams.clear();
  }
}

/** The session's table of requests sent to its client. */
export function clientRequestsOf(s: Session): ClientRequestTable {
  return (s.clientRequests ??= new ClientRequestTable());
}
