/**
 * Embedded Postgres (PGlite) persisted under DZX_DATA_DIR, for a bare machine.
 * PGlite itself runs on its own thread (pgliteThread.ts); drizzle talks to it
 * through PgliteClient, which speaks the part of PGlite's API drizzle uses.
 */
import { drizzle } from "drizzle-orm/pglite";
import { join } from "node:path";
import * as schema from "../../db/schema.ts";
import type { Database, Db } from "./database.ts";
import { lockDataDir } from "./lock.ts";
import { migrationsFolder } from "./migrations.ts";
import { PgliteClient } from "./pgliteClient.ts";

/** Opens (creating if needed) and migrates the embedded database in `dataDir`. */
export async function openPglite(dataDir: string): Promise<Database> {
  const release = lockDataDir(dataDir);
  try {
    const client = await PgliteClient.open(join(dataDir, "pg"), migrationsFolder);
    const db = drizzle({ client: client as never, schema }) as unknown as Db;
    return {
      db,
      driver: "pglite",
      ping: async () => {
        await client.query("select 1");
      },
      copyIn: async (table, columns, text) => {
        const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;
        await client.copy(`copy ${ident(table)} (${columns.map(ident).join(", ")}) from '/dev/blob'`, text);
      },
      close: async () => {
        await client.close();
        release();
      },
    };
  } catch (e) {
    release();
    throw e;
  }
}
