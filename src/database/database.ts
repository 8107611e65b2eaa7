/**
 * The one database type the platform codes against: drizzle over either driver.
 */
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type * as schema from "../../db/schema.ts";

/** A drizzle database (or transaction) over the dzx schema, whatever the driver. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** An open database with its driver's name and a way to close it. */
export interface Database {
  db: Db;
  driver: "pglite" | "postgres";
  /** Runs a trivial query; throws when the database cannot be reached. */
  ping(): Promise<void>;
  /**
   * Bulk-loads rows given in COPY's text format (tab-separated, `\N` for null)
   * into `table (columns)`, where the driver does it cheaply in-process (PGlite:
   * about half the cost of an INSERT per row). Absent: use INSERT.
   */
  copyIn?(table: string, columns: string[], text: string): Promise<void>;
  close(): Promise<void>;
}
