/**
 * PostgreSQL through postgres.js, for DATABASE_URL deployments (one or many processes).
 */
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import * as schema from "../../db/schema.ts";
import type { Database, Db } from "./database.ts";
import { migrationsFolder } from "./migrations.ts";

/** Connects to `url` and applies pending migrations. */
export async function openPostgres(url: string): Promise<Database> {
  const client = postgres(url, { max: 10, onnotice: () => {} });
  try {
    const db = drizzle({ client, schema }) as unknown as Db;
    await migrate(db as never, { migrationsFolder });
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
