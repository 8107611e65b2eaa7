/**
 * Where the drizzle-kit migrations live; both drivers apply the same folder on start.
 */
import { join } from "node:path";

/** Absolute path of db/migrations in the source tree. */
export const migrationsFolder = join(import.meta.dir, "..", "..", "db", "migrations");
