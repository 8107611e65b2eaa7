/**
 * The five operations every org asset has (list, get, create, update, delete),
 * declared once for tools, resources and prompts.
 */
import { Type, type TObject } from "@sinclair/typebox";
import type { Db } from "../../database/index.ts";
import type { AssetRef } from "../../platform/assetTable.ts";
import type { Scope } from "../../platform/scope.ts";
import { listPage } from "../listPage.ts";
import { operation, PageArgs, Ref, type Operation, type OpContext } from "../operation.ts";

/** How one asset kind plugs into the generic operations. */
export interface AssetSpec<Row> {
  singular: string;
  plural: string;
  readScope: Scope;
  writeScope: Scope;
  input: TObject;
  patch: TObject;
  view(row: Row): unknown;
  list(db: Db, orgId: string): Promise<Row[]>;
  get(db: Db, orgId: string, ref: AssetRef): Promise<Row>;
  create(ctx: OpContext, input: any): Promise<unknown>;
  update(ctx: OpContext, ref: AssetRef, patch: any): Promise<unknown>;
  remove(ctx: OpContext, ref: AssetRef): Promise<unknown>;
}

/** dwizi.<plural>.{list,get,create,update,delete} for one asset kind. */
export function assetOperations<Row>(s: AssetSpec<Row>): Operation[] {
  const { singular, plural } = s;
  return [
    operation({
      name: `dwizi.${plural}.list`,
      scope: s.readScope,
      description: `List the org's ${plural} (soft-deleted ones are hidden).`,
      args: PageArgs,
      rest: { method: "GET", path: `/${plural}` },
      run: async (ctx, args) => listPage(plural, (await s.list(ctx.db, ctx.principal.orgId)).map(s.view), args),
    }),
    operation({
      name: `dwizi.${plural}.get`,
      scope: s.readScope,
      description: `Get one ${singular} by id or slug.`,
      args: Ref,
      rest: { method: "GET", path: `/${plural}/:id` },
      run: async (ctx, args) => ({ [singular]: s.view(await s.get(ctx.db, ctx.principal.orgId, args)) }),
    }),
    operation({
      name: `dwizi.${plural}.create`,
      scope: s.writeScope,
      description: `Create a ${singular}: {${singular}: {...}}.`,
      args: Type.Object({ [singular]: s.input }),
      rest: { method: "POST", path: `/${plural}`, body: singular, status: 201 },
      run: (ctx, args) => s.create(ctx, (args as Record<string, unknown>)[singular]),
    }),
    operation({
      name: `dwizi.${plural}.update`,
      scope: s.writeScope,
      description: `Update a ${singular} by id or slug: {id|slug, patch: {...}}.`,
      args: Type.Composite([Ref, Type.Object({ patch: s.patch })]),
      rest: { method: "PATCH", path: `/${plural}/:id`, body: "patch" },
      run: (ctx, args) => s.update(ctx, args as AssetRef, (args as { patch: unknown }).patch),
    }),
    operation({
      name: `dwizi.${plural}.delete`,
      scope: s.writeScope,
      description: `Soft-delete a ${singular} by id or slug; its slug becomes free again.`,
      args: Ref,
      rest: { method: "DELETE", path: `/${plural}/:id` },
      run: (ctx, args) => s.remove(ctx, args),
    }),
  ];
}
