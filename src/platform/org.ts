/**
 * Orgs own everything; each is made with a `default` workspace.
 */
import { eq } from "drizzle-orm";
import { orgs, workspaces, type OrgLimits } from "../../db/schema.ts";
import type { Db } from "../database/index.ts";
import { newId } from "./token.ts";

/** An org as the API shows it. */
export interface OrgView {
  id: string;
  name: string;
  limits: OrgLimits;
  createdAt: string;
  defaultWorkspaceId: string;
}

/** Finds an org by name, creating it (and its default workspace) when absent. */
export async function ensureOrg(db: Db, name: string): Promise<{ id: string; created: boolean }> {
  return db.transaction(async (tx) => {
    const [found] = await tx.select({ id: orgs.id }).from(orgs).where(eq(orgs.name, name));
    if (found) return { id: found.id, created: false };
    const id = newId();
    await tx.insert(orgs).values({ id, name });
    await tx.insert(workspaces).values({ id: newId(), orgId: id, name: "Default", slug: "default" });
    return { id, created: true };
  });
}

/** The org with its default workspace id, or null. */
export async function getOrg(db: Db, orgId: string): Promise<OrgView | null> {
  const [org] = await db.select().from(orgs).where(eq(orgs.id, orgId));
  if (!org) return null;
  const ws = await db.select().from(workspaces).where(eq(workspaces.orgId, orgId));
  const def = ws.find((w) => w.slug === "default") ?? ws[0];
  return { id: org.id, name: org.name, limits: org.limits, createdAt: org.createdAt.toISOString(), defaultWorkspaceId: def?.id ?? "" };
}

/** Lists every org (operator CLI). */
export async function listOrgs(db: Db) {
  const rows = await db.select().from(orgs).orderBy(orgs.createdAt);
  return rows.map((o) => ({ id: o.id, name: o.name, limits: o.limits, createdAt: o.createdAt.toISOString() }));
}

/** Replaces an org's limit overrides (operator CLI). */
export async function setOrgLimits(db: Db, orgId: string, limits: OrgLimits): Promise<void> {
  await db.update(orgs).set({ limits }).where(eq(orgs.id, orgId));
}

/** Whether any org exists yet (first start detection). */
export async function hasAnyOrg(db: Db): Promise<boolean> {
  const rows = await db.select({ id: orgs.id }).from(orgs).limit(1);
  return rows.length > 0;
}
