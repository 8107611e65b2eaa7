/**
 * Embedded Postgres (PGlite) persisted under DZX_DATA_DIR, for a bare machine.
 */
import { PGlite } from "@electric-sql/pglite";
import { drizzle } from "drizzle-orm/pglite";
import { migrate } from "drizzle-orm/pglite/migrator";
import { join } from "node:path";
import * as schema from "../../db/schema.ts";
import type { Database, Db } from "./database.ts";
import { lockDataDir } from "./lock.ts";
import { migrationsFolder } from "./migrations.ts";

/** Opens (creating if needed) and migrates the embedded database in `dataDir`. */
export async function openPglite(dataDir: string): Promise<Database> {
  const release = lockDataDir(dataDir);
  try {
    const client = await PGlite.create({ dataDir: join(dataDir, "pg") });
    const db = drizzle({ client, schema }) as unknown as Db;
    await migrate(db as never, { migrationsFolder });
    return {
      db,
      driver: "pglite",
      ping: async () => {
        await client.query("select 1");
      },
      copyIn: async (table, columns, text) => {
        const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;
        await client.query(`copy ${ident(table)} (${columns.map(ident).join(", ")}) from '/dev/blob'`, [], { blob: new Blob([text]) });
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
