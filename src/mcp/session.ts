/**
 * Sessions of the initialize lane: issued on initialize, echoed as Mcp-Session-Id.
 */

/** What the server remembers about one client connection. */
export interface Session {
  id: string;
  protocolVersion: string;
  clientInfo: unknown;
  clientCapabilities: unknown;
  logLevel: string;
  createdAt: number;
  lastSeenAt: number;
  /** Opaque owner (e.g. the key or server that opened it): a session is only usable by its owner. */
  owner: string;
}

/** An in-process session table (sessions live on the process that created them). */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly ttlMs = 30 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Opens a session. */
  open(owner: string, protocolVersion: string, clientInfo: unknown, clientCapabilities: unknown): Session {
    this.sweep();
    const t = this.now();
    const s: Session = { id: crypto.randomUUID().replace(/-/g, ""), protocolVersion, clientInfo, clientCapabilities, logLevel: "info", createdAt: t, lastSeenAt: t, owner };
    this.sessions.set(s.id, s);
    return s;
  }

  /** The live session with this id and owner, refreshed; undefined when unknown, expired or another owner's. */
  get(id: string, owner: string): Session | undefined {
    const s = this.sessions.get(id);
    if (!s || s.owner !== owner) return undefined;
    if (this.now() - s.lastSeenAt > this.ttlMs) {
      this.sessions.delete(id);
      return undefined;
    }
    s.lastSeenAt = this.now();
    return s;
  }

  /** Ends a session; false when it did not exist. */
  close(id: string, owner: string): boolean {
    const s = this.sessions.get(id);
    if (!s || s.owner !== owner) return false;
    return this.sessions.delete(id);
  }

  /** Drops idle sessions. */
  sweep(): void {
    const t = this.now();
    for (const [id, s] of this.sessions) if (t - s.lastSeenAt > this.ttlMs) this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }
}
