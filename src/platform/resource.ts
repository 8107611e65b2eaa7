/**
 * Resources: text, a base64 blob, or a tool's output, published under a URI. A URI
 * written as an RFC 6570 template (`docs://{topic}`) makes a resource template: read
 * by any matching URI, its text's `{{variable}}` placeholders filled, or its tool
 * run with the variables as input (SPEC "Resources", issue 14 point 5).
 */
import { Type, type Static } from "@sinclair/typebox";
import { and, asc, eq, isNull } from "drizzle-orm";
import { resources, type CompletionSource } from "../../db/schema.ts";
import type { Db } from "../database/index.ts";
import { isUriTemplate, parseUriTemplate, UriTemplateError } from "../uriTemplate.ts";
import { ensureSlugFree, ensureUnderCap, findLive, softDelete, write, type AssetRef } from "./assetTable.ts";
import { completionFields, resolveCompletionSource, resolveToolRef } from "./completionSource.ts";
import { invalid } from "./domainError.ts";
import type { Principal } from "./principal.ts";
import { placeholders } from "./prompt.ts";
import { resolveSlug } from "./slug.ts";
import { newId } from "./token.ts";

const Variable = Type.Object(completionFields, { additionalProperties: false });

/** The fields a resource is created with (seed 000 `{resource:{...}}`). */
export const ResourceInput = Type.Object({
  uri: Type.String({ minLength: 1, maxLength: 2048, description: "e.g. resource://docs/welcome, or an RFC 6570 template such as docs://{topic}" }),
  name: Type.String({ minLength: 1, maxLength: 200 }),
  slug: Type.Optional(Type.String({ description: "Unique per org; derived from name when omitted" })),
  description: Type.Optional(Type.String({ maxLength: 4000 })),
  mimeType: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  text: Type.Optional(Type.String({ description: "In a template, {{variable}} placeholders are filled on read" })),
  blob: Type.Optional(Type.String({ description: "base64" })),
  toolId: Type.Optional(Type.String({ minLength: 1, description: "Id or slug of a tool of this org: reading runs it with the URI's variables as input" })),
  variables: Type.Optional(Type.Record(Type.String(), Variable, { description: "A template's variables that offer completions: {name: {values} | {complete: {toolId}}}" })),
});
export type ResourceInput = Static<typeof ResourceInput>;

/** A resource patch: any subset of the create fields (setting one of text, blob or toolId clears the others); `mimeType: null` lets a tool's output decide. */
export const ResourcePatch = Type.Partial(Type.Composite([Type.Omit(ResourceInput, ["mimeType"]), Type.Object({ mimeType: Type.Union([ResourceInput.properties.mimeType, Type.Null()]) })]));
export type ResourcePatch = Static<typeof ResourcePatch>;

type ResourceRow = typeof resources.$inferSelect;

/** A resource as the API shows it. */
export function resourceView(r: ResourceRow) {
  return {
    id: r.id,
    orgId: r.orgId,
    slug: r.slug,
    uri: r.uri,
    name: r.name,
    description: r.description,
    mimeType: r.mimeType,
    ...(r.toolId !== null ? { toolId: r.toolId } : r.blob !== null ? { blob: r.blob } : { text: r.text ?? "" }),
    ...(Object.keys(r.variables).length ? { variables: r.variables } : {}),
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

const URI_RE = /^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$/;
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
const ONE_CONTENT = `A resource needs exactly one of "text", "blob" (base64) or "toolId"`;

/** What a resource row holds besides its names. */
interface Content {
  uri: string;
  text: string | null;
  blob: string | null;
  toolId: string | null;
  variables: Record<string, CompletionSource>;
}

/** Checks the uri (or template), the content and the variables; resolves tool references to ids. */
async function checkContent(db: Db, orgId: string, r: Content): Promise<Content> {
  if (!URI_RE.test(r.uri)) throw invalid(`Invalid resource uri "${r.uri}": use scheme:path, e.g. resource://docs/welcome`);
  if ([r.text, r.blob, r.toolId].filter((x) => x !== null).length !== 1) throw invalid(ONE_CONTENT);
  if (r.blob !== null && (r.blob.length % 4 !== 0 || !BASE64_RE.test(r.blob))) throw invalid(`"blob" must be base64`);
  let names: string[] = [];
  if (isUriTemplate(r.uri)) {
    try {
      names = parseUriTemplate(r.uri).variables;
    } catch (err) {
      if (err instanceof UriTemplateError) throw invalid(`Invalid resource uri template "${r.uri}": ${err.message}`);
      throw err;
    }
    for (const name of r.text !== null ? placeholders(r.text) : []) {
      if (!names.includes(name)) throw invalid(`"text" uses {{${name}}}, which is not a variable of the uri template (${names.join(", ")})`);
    }
  }
  const variables: Record<string, CompletionSource> = {};
  for (const [name, src] of Object.entries(r.variables)) {
    if (!names.includes(name)) {
      throw invalid(names.length ? `variables.${name}: the uri template has no variable "${name}" (it has ${names.join(", ")})` : `variables.${name}: only a resource whose uri is a template has variables`);
    }
    variables[name] = await resolveCompletionSource(db, orgId, src, `variables.${name}`);
  }
  const toolId = r.toolId === null ? null : await resolveToolRef(db, orgId, r.toolId, "toolId");
  return { ...r, toolId, variables };
}

/** The stored mimeType when none is given: a tool-backed resource lets its output decide. */
function defaultMimeType(c: Pick<Content, "blob" | "toolId">): string | null {
  return c.toolId !== null ? null : c.blob !== null ? "application/octet-stream" : "text/plain";
}

/** Live resources of the org, oldest first. */
export async function listResources(db: Db, orgId: string): Promise<ResourceRow[]> {
  return db
    .select()
    .from(resources)
    .where(and(eq(resources.orgId, orgId), isNull(resources.deletedAt)))
    .orderBy(asc(resources.createdAt), asc(resources.id));
}

/** One live resource by id or slug. */
export function getResource(db: Db, orgId: string, ref: AssetRef): Promise<ResourceRow> {
  return findLive(db, resources, orgId, ref);
}

/** Creates a resource after checking its uri, content, tools, slug and the org's cap. */
export async function createResource(db: Db, p: Principal, input: ResourceInput) {
  const slug = resolveSlug(input.slug, input.name, "resource");
  return write(db, p, "resources.create", "resource", async (tx) => {
    const content = await checkContent(tx, p.orgId, {
      uri: input.uri,
      text: input.text ?? null,
      blob: input.blob ?? null,
      toolId: input.toolId ?? null,
      variables: input.variables ?? {},
    });
    await ensureUnderCap(tx, resources, p);
    await ensureSlugFree(tx, resources, p.orgId, slug);
    const [row] = await tx
      .insert(resources)
      .values({
        id: newId(),
        orgId: p.orgId,
        slug,
        name: input.name,
        description: input.description ?? "",
        mimeType: input.mimeType ?? defaultMimeType(content),
        ...content,
        createdBy: p.keyId,
      })
      .returning();
    return { result: { resource: resourceView(row) }, targetId: row.id, detail: { slug, uri: row.uri } };
  });
}

/** Applies a patch to a resource. */
export async function updateResource(db: Db, p: Principal, ref: AssetRef, patch: ResourcePatch) {
  return write(db, p, "resources.update", "resource", async (tx) => {
    const cur = await findLive(tx, resources, p.orgId, ref);
    const given = [patch.text, patch.blob, patch.toolId].filter((x) => x !== undefined).length;
    if (given > 1) throw invalid(ONE_CONTENT);
    const body =
      given === 0
        ? { text: cur.text, blob: cur.blob, toolId: cur.toolId }
        : { text: patch.text ?? null, blob: patch.blob ?? null, toolId: patch.toolId ?? null };
    const content = await checkContent(tx, p.orgId, { uri: patch.uri ?? cur.uri, ...body, variables: patch.variables ?? cur.variables });
    const next = {
      name: patch.name ?? cur.name,
      slug: patch.slug === undefined ? cur.slug : resolveSlug(patch.slug, cur.name, "resource"),
      description: patch.description ?? cur.description,
      mimeType: patch.mimeType === undefined ? cur.mimeType : (patch.mimeType ?? defaultMimeType(content)),
      ...content,
    };
    if (next.slug !== cur.slug) await ensureSlugFree(tx, resources, p.orgId, next.slug, cur.id);
    const [row] = await tx.update(resources).set({ ...next, updatedAt: new Date() }).where(eq(resources.id, cur.id)).returning();
    return { result: { resource: resourceView(row) }, targetId: row.id, detail: { slug: row.slug, fields: Object.keys(patch) } };
  });
}

/** Soft-deletes a resource. */
export function deleteResource(db: Db, p: Principal, ref: AssetRef) {
  return softDelete(db, resources, p, "resources.delete", ref);
}
