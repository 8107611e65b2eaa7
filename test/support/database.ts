/**
 * A fresh, isolated database for each test server: a copy of a migrated PGlite
 * template, or (with DATABASE_URL) a new PostgreSQL database on that server.
 */
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";

const ROOT = join(import.meta.dir, "..", "..");
const templateDir = join(tmpdir(), `dzx-test-template-${process.pid}`);

/** Whether this run targets a real PostgreSQL server. */
export const usingPostgres = Boolean(process.env.DATABASE_URL);

/** The PostgreSQL server used by tests that need one even on a PGlite run (several processes on one database). */
export const POSTGRES_URL = process.env.DATABASE_URL || "postgres://root@127.0.0.1:5432/test";

/** Creates the migrated PGlite template (no-op on PostgreSQL). */
export async function prepareTemplate(): Promise<void> {
  if (usingPostgres || existsSync(join(templateDir, "pg"))) return;
  const proc = Bun.spawn(["bun", join(ROOT, "src/main.ts"), "migrate"], {
    env: { ...process.env, DZX_DATA_DIR: templateDir },
    stdout: "pipe",
    stderr: "pipe",
  });
  if ((await proc.exited) !== 0) throw new Error(`template migrate failed: ${await new Response(proc.stderr).text()}`);
  rmSync(join(templateDir, "dzx.lock"), { force: true });
  process.on("exit", () => rmSync(templateDir, { recursive: true, force: true }));
}

/** Environment for one isolated database, and how to drop it. */
export interface TestDatabase {
  env: Record<string, string>;
  dataDir: string;
  drop(): Promise<void>;
}

/**
 * A new database: a PGlite copy, or a fresh PostgreSQL database. `postgres: true`
 * asks for PostgreSQL on a PGlite run too (at POSTGRES_URL), for tests that run
 * several processes on one database — PGlite is single-process.
 */
export async function freshDatabase(opts: { postgres?: boolean } = {}): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), "dzx-test-"));
  if (!usingPostgres && !opts.postgres) {
    await prepareTemplate();
    cpSync(templateDir, dataDir, { recursive: true });
    return { env: { DZX_DATA_DIR: dataDir }, dataDir, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const base = new URL(POSTGRES_URL);
  const name = `dzx_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = postgres(base.toString(), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString(), DZX_DATA_DIR: dataDir, DZX_SECRET_KEY: "a".repeat(64) },
    dataDir,
    drop: async () => {
      const a = postgres(base.toString(), { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
      await a.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
