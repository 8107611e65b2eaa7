/**
 * `bun run build`: compiles dzx into one executable, dist/dzx, that runs with no
 * Bun and no node_modules beside it (issue 15.3). The Dockerfile's build stage
 * runs exactly this, and test/cli/binary.test.ts runs what the Dockerfile runs.
 *
 * Embedded: the code, each worker entry (a worker must be an entry point of its
 * own, or the binary cannot start it), the files of src/assets.ts (PGlite's and
 * QuickJS's WebAssembly), and db/migrations as a folder (src/database/migrations.ts).
 */
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { workerEntries } from "../src/assets.ts";

const root = join(import.meta.dir, "..");
const outfile = join(root, "dist", "dzx");

const result = await Bun.build({
  entrypoints: [join(root, "src", "main.ts"), ...Object.values(workerEntries).map((url) => fileURLToPath(url))],
  compile: { outfile, assets: [join(root, "db", "migrations")] },
});

if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
console.log(`built ${outfile}`);
