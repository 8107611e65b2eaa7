/**
 * Announces that an org's assets changed, so every process reloads the hosted
 * servers it serves and notifies their sessions; and that one resource of a
 * server has new contents (a trigger's events), so every process tells that
 * resource's subscribers. One interface, two backends: in-process (embedded
 * PGlite is single-process) and PostgreSQL LISTEN/NOTIFY.
 */
import postgres from "postgres";

/** The channel dzx processes talk on. */
export const CHANNEL = "dzx_changes";

/** A change announcement bus. */
export interface ChangeBus {
  /** Announces a change of the org's assets; local listeners hear it before this returns. */
  publish(orgId: string): Promise<void>;
  /** Listens for changes; returns the unsubscribe function. */
  subscribe(listener: (orgId: string) => void): () => void;
  /** Announces new contents of one resource of a server (not a change of what the server serves). */
  publishResource(serverId: string, uri: string): Promise<void>;
  /** Listens for resource announcements; returns the unsubscribe function. */
  subscribeResources(listener: (serverId: string, uri: string) => void): () => void;
  close(): Promise<void>;
}

function listeners<A extends unknown[]>() {
  const set = new Set<(...args: A) => void>();
  return {
    set,
    emit(...args: A) {
      for (const l of set) {
        try {
          l(...args);
        } catch {} // one listener's fault must not stop the others
      }
    },
    add(l: (...args: A) => void) {
      set.add(l);
      return () => void set.delete(l);
    },
  };
}

/** A bus for one process. */
export function memoryChangeBus(): ChangeBus {
  const orgs = listeners<[string]>();
  const resources = listeners<[string, string]>();
  return {
    publish: async (orgId) => orgs.emit(orgId),
    subscribe: (l) => orgs.add(l),
    publishResource: async (serverId, uri) => resources.emit(serverId, uri),
    subscribeResources: (l) => resources.add(l),
    close: async () => {
      orgs.set.clear();
      resources.set.clear();
    },
  };
}

/** A bus shared by every process on one PostgreSQL database (NOTIFY dzx_changes). */
export async function postgresChangeBus(url: string, onError: (err: unknown) => void = () => {}): Promise<ChangeBus> {
  const orgs = listeners<[string]>();
  const resources = listeners<[string, string]>();
  const origin = crypto.randomUUID();
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  // our own announcements were delivered locally at publish time; only other processes' are news
  await sql.listen(CHANNEL, (payload) => {
    try {
      const msg = JSON.parse(payload) as { orgId?: string; serverId?: string; uri?: string; origin?: string };
      if (msg.origin === origin) return;
      if (typeof msg.orgId === "string") orgs.emit(msg.orgId);
      else if (typeof msg.serverId === "string" && typeof msg.uri === "string") resources.emit(msg.serverId, msg.uri);
    } catch (err) {
      onError(err);
    }
  });
  const notify = async (msg: Record<string, string>) => {
    try {
      await sql`select pg_notify(${CHANNEL}, ${JSON.stringify({ ...msg, origin })})`;
    } catch (err) {
      onError(err);
    }
  };
  return {
    publish: async (orgId) => {
      orgs.emit(orgId);
      await notify({ orgId });
    },
    subscribe: (l) => orgs.add(l),
    publishResource: async (serverId, uri) => {
      resources.emit(serverId, uri);
      // NOTIFY payloads stop at 8000 bytes; a URI that long is told to this process's sessions only
      if (uri.length < 4000) await notify({ serverId, uri });
    },
    subscribeResources: (l) => resources.add(l),
    close: async () => {
      orgs.set.clear();
      resources.set.clear();
      await sql.end({ timeout: 2 });
    },
  };
}
