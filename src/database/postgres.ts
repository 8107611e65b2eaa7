/**
 * PostgreSQL through postgres.js, for DATABASE_URL deployments (one or many processes).
 */
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import * as schema from "../../db/schema.ts";
import type { Database, Db } from "./database.ts";
import { migrationsFolder } from "./migrations.ts";

/** The advisory lock that serializes migrations between processes (any constant, the same in every dzx). */
const MIGRATION_LOCK = 0x647a78; // "dzx"

/**
 * Applies pending migrations while holding a session-level advisory lock on one reserved
 * connection: processes started together on an empty database would otherwise race to
 * create the same tables, and all but one fail. The others wait, then find nothing to do.
 */
async function migrateLocked(client: postgres.Sql, db: Db): Promise<void> {
  const conn = await client.reserve();
  try {
    await conn`select pg_advisory_lock(${MIGRATION_LOCK})`;
    try {
      await migrate(db as never, { migrationsFolder });
    } finally {
      await conn`select pg_advisory_unlock(${MIGRATION_LOCK})`;
    }
  } finally {
    conn.release();
  }
}

/** Connects to `url` and applies pending migrations. */
export async function openPostgres(url: string): Promise<Database> {
  const client = postgres(url, { max: 10, onnotice: () => {} });
  try {
    const db = drizzle({ client, schema }) as unknown as Db;
    await migrateLocked(client, db);
    return {
      db,
      driver: "postgres",
      ping: async () => {
        await client`select 1`;
      },
      close: () => client.end({ timeout: 5 }),
    };
  } catch (e) {
    await client.end({ timeout: 1 });
    throw e;
  }
}
