/**
 * Announces that an org's assets changed, so every process reloads the hosted
 * servers it serves and notifies their sessions. One interface, two backends:
 * in-process (embedded PGlite is single-process) and PostgreSQL LISTEN/NOTIFY.
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
  close(): Promise<void>;
}

function listeners() {
  const set = new Set<(orgId: string) => void>();
  return {
    set,
    emit(orgId: string) {
      for (const l of set) {
        try {
          l(orgId);
        } catch {} // one listener's fault must not stop the others
      }
    },
  };
}

/** A bus for one process. */
export function memoryChangeBus(): ChangeBus {
  const ls = listeners();
  return {
    publish: async (orgId) => ls.emit(orgId),
    subscribe: (l) => {
      ls.set.add(l);
      return () => ls.set.delete(l);
    },
    close: async () => ls.set.clear(),
  };
}

/** A bus shared by every process on one PostgreSQL database (NOTIFY dzx_changes). */
export async function postgresChangeBus(url: string, onError: (err: unknown) => void = () => {}): Promise<ChangeBus> {
  const ls = listeners();
  const origin = crypto.randomUUID();
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  // our own announcements were delivered locally at publish time; only other processes' are news
  await sql.listen(CHANNEL, (payload) => {
    try {
      const msg = JSON.parse(payload) as { orgId?: string; origin?: string };
      if (msg.origin !== origin && typeof msg.orgId === "string") ls.emit(msg.orgId);
    } catch (err) {
      onError(err);
    }
  });
  return {
    publish: async (orgId) => {
      ls.emit(orgId);
      try {
        await sql`select pg_notify(${CHANNEL}, ${JSON.stringify({ orgId, origin })})`;
      } catch (err) {
        onError(err);
      }
    },
    subscribe: (l) => {
      ls.set.add(l);
      return () => ls.set.delete(l);
    },
    close: async () => {
      ls.set.clear();
      await sql.end({ timeout: 2 });
    },
  };
}
