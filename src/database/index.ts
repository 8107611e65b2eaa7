/**
 * Opens the database the configuration names: postgres.js with DATABASE_URL, else embedded PGlite.
 */
import type { Config } from "../config.ts";
import type { Database } from "./database.ts";

export type { Database, Db } from "./database.ts";

/** Opens and migrates the configured database. */
export async function openDatabase(config: Pick<Config, "databaseUrl" | "dataDir">): Promise<Database> {
  if (config.databaseUrl) return (await import("./postgres.ts")).openPostgres(config.databaseUrl);
  return (await import("./pglite.ts")).openPglite(config.dataDir);
}
