/**
 * Where the drizzle-kit migrations live; both drivers apply the same folder on start.
 */
import { dirname, join } from "node:path";

/**
 * db/migrations in the source tree; in the compiled binary, its copy inside the
 * binary (scripts/build.ts embeds the folder as `migrations/` beside the main
 * bundle), so new migrations need no list to keep in step.
 */
export const migrationsFolder = Bun.isStandaloneExecutable
  ? join(dirname(Bun.main), "migrations")
  : join(import.meta.dir, "..", "..", "db", "migrations");
