/**
 * The first key of a fresh install (issue 15.2): on the first start of a database with no org,
 * dzx installs DZX_ADMIN_KEY, or mints an all-scopes key of org `default` and shows it once in
 * the start-up banner, so a newcomer never has to stop the server to get a key.
 */
import { sql } from "drizzle-orm";
import type { Config } from "./config.ts";
import type { Database, Db } from "./database/index.ts";
import { insertKey } from "./platform/apiKey.ts";
import { recordAudit } from "./platform/audit.ts";
import { ensureOrg, hasAnyOrg } from "./platform/org.ts";
import { ALL_SCOPES } from "./platform/scope.ts";

/** The org a first key belongs to. */
export const FIRST_ORG = "default";

/**
 * Serializes first starts of processes sharing one PostgreSQL (any constant, the same in every dzx;
 * the migration lock in database/postgres.ts uses another), so exactly one of them makes the key.
 */
const FIRST_START_LOCK = 4_210_615;

/** What a first start installed: the operator's DZX_ADMIN_KEY, or a minted key (its only clear copy). */
export type FirstKey = { kind: "admin" } | { kind: "minted"; key: string };

/** Installs the first key when the database has no org yet; undefined when it had one. */
export async function installFirstKey(database: Database, config: Pick<Config, "adminKey">): Promise<FirstKey | undefined> {
  return database.db.transaction(async (tx) => {
    const db = tx as unknown as Db;
    await db.execute(sql`select pg_advisory_xact_lock(${FIRST_START_LOCK})`);
    if (await hasAnyOrg(db)) return undefined;
    const org = await ensureOrg(db, FIRST_ORG);
    if (config.adminKey) {
      await insertKey(db, { orgId: org.id, scopes: [...ALL_SCOPES], name: "DZX_ADMIN_KEY", key: config.adminKey });
      return { kind: "admin" };
    }
    const made = await insertKey(db, { orgId: org.id, scopes: [...ALL_SCOPES], name: "first start" });
    await recordAudit(db, { orgId: org.id, actorKeyId: null, operation: "keys.create", targetType: "key", targetId: made.keyId, detail: { via: "first start", scopes: made.scopes } });
    return { kind: "minted", key: made.key };
  });
}

/** The plain-text banner (stderr, never a log line) that tells the operator about the first key and what to try next. */
export function firstKeyBanner(first: FirstKey, url: string): string {
  if (first.kind === "admin") return `Installed DZX_ADMIN_KEY as an all-scopes key of org "${FIRST_ORG}".`;
  return [
    `First start on an empty database: dzx created org "${FIRST_ORG}" and an all-scopes API key for it.`,
    "The key is shown only this once (dzx stores its hash), so store it now:",
    "",
    `  KEY=${first.key}`,
    "",
    "Try it from another terminal while this server keeps running:",
    `  curl -s ${url}/api/v1/org -H "Authorization: Bearer $KEY"`,
    `  npm run dzx -- keys create --org ${FIRST_ORG} --scopes tools:write,mcp:write --name ci`,
    `  npm run dzx -- keys list --org ${FIRST_ORG}`,
    `With Bun installed, \`bun run dzx keys list --org ${FIRST_ORG}\` does the same; README.md walks through the rest.`,
  ].join("\n");
}
