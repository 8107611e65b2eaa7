/**
 * Where completion/complete finds values for a prompt argument or a resource
 * template's variable (issue 14, point 5): a declared `values` list, or
 * `complete: {toolId}` naming a tool of the same org. One declaration, checked
 * the same way for both, so a prompt argument and a template variable complete alike.
 */
import { Type } from "@sinclair/typebox";
import { tools, type CompletionSource } from "../../db/schema.ts";
import type { Db } from "../database/index.ts";
import { findLive } from "./assetTable.ts";
import { DomainError, invalid } from "./domainError.ts";

/** The fields a prompt argument or template variable may declare for completion. */
export const completionFields = {
  values: Type.Optional(
    Type.Array(Type.String({ maxLength: 1000 }), { maxItems: 1000, description: "Values completion/complete offers (prefix-filtered, case-insensitive)" }),
  ),
  complete: Type.Optional(
    Type.Object(
      { toolId: Type.String({ minLength: 1, description: "Id or slug of a tool of this org; it gets {argument, value, context} and returns an array of strings" }) },
      { additionalProperties: false },
    ),
  ),
};

/** A tool reference resolved to the tool's id, refused (NOT_FOUND) when the org has no such live tool. */
export async function resolveToolRef(db: Db, orgId: string, ref: string, where: string): Promise<string> {
  try {
    return (await findLive(db, tools, orgId, { id: ref })).id;
  } catch (err) {
    if (err instanceof DomainError && err.code === "NOT_FOUND") throw new DomainError("NOT_FOUND", `${where}: tool "${ref}" not found in this org`);
    throw err;
  }
}

/** The source as stored: checked, its tool resolved to an id; undefined fields dropped. */
export async function resolveCompletionSource(db: Db, orgId: string, src: CompletionSource, where: string): Promise<CompletionSource> {
  if (src.values !== undefined && src.complete !== undefined) throw invalid(`${where}: declare "values" or "complete", not both`);
  if (src.complete) return { complete: { toolId: await resolveToolRef(db, orgId, src.complete.toolId, `${where}.complete.toolId`) } };
  return src.values !== undefined ? { values: src.values } : {};
}

/** Whether the source can offer anything. */
export function completes(src: CompletionSource | undefined): boolean {
  return Boolean(src && (src.values?.length || src.complete));
}

/** The declared values that start with what the user typed (case-insensitive). */
export function matchingValues(values: string[], typed: string): string[] {
  const prefix = typed.toLowerCase();
  return prefix === "" ? values : values.filter((v) => v.toLowerCase().startsWith(prefix));
}
