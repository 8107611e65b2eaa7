/**
 * dwizi.connections.*: named sets of secret values for one integration (issue 17.2). They take
 * the secrets:* scopes: a connection is secrets, grouped. Values are write-only.
 */
import { Type } from "@sinclair/typebox";
import * as connection from "../../platform/connection.ts";
import { IntegrationField } from "../../platform/integration.ts";
import { listPage } from "../listPage.ts";
import { operation, PageArgs } from "../operation.ts";

/** dwizi.connections.{list,get,create,update,delete} */
export const connectionOperations = [
  operation({
    name: "dwizi.connections.list",
    scope: "secrets:read",
    description: "List the org's connections (optionally of one integration or end user): names, integrations and masked values, never a value.",
    args: Type.Composite([
      PageArgs,
      Type.Object({
        integration: Type.Optional(IntegrationField),
        endUserId: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: "Only this end user's connections" })),
      }),
    ]),
    rest: { method: "GET", path: "/connections" },
    run: async (ctx, args) => {
      const rows = await connection.listConnections(ctx.db, ctx.principal.orgId, { integration: args.integration, endUserId: args.endUserId });
      return listPage("connections", rows.map((c) => connection.connectionView(c, ctx.box)), args);
    },
  }),
  operation({
    name: "dwizi.connections.get",
    scope: "secrets:read",
    description: "Get one connection by id, or by name (with endUserId for an end user's); values masked.",
    args: connection.ConnectionRef,
    rest: { method: "GET", path: "/connections/:id" },
    run: async (ctx, args) => ({ connection: connection.connectionView(await connection.getConnection(ctx.db, ctx.principal.orgId, args), ctx.box) }),
  }),
  operation({
    name: "dwizi.connections.create",
    scope: "secrets:write",
    description: "Create a connection: {connection: {name, integration, values: {SECRET_NAME: value}, endUserId?}}. Values are stored encrypted and never shown again.",
    args: Type.Object({ connection: connection.ConnectionInput }),
    rest: { method: "POST", path: "/connections", body: "connection", status: 201 },
    run: (ctx, args) => connection.createConnection(ctx.db, ctx.box, ctx.principal, args.connection),
  }),
  operation({
    name: "dwizi.connections.update",
    scope: "secrets:write",
    description: "Rename a connection or set values: {id|name, endUserId?, patch: {name?, values?: {SECRET_NAME: value | null}}}; null removes a value, unnamed ones are kept.",
    args: Type.Composite([connection.ConnectionRef, Type.Object({ patch: connection.ConnectionPatch })]),
    rest: { method: "PATCH", path: "/connections/:id", body: "patch" },
    run: (ctx, args) => connection.updateConnection(ctx.db, ctx.box, ctx.principal, args, args.patch),
  }),
  operation({
    name: "dwizi.connections.delete",
    scope: "secrets:write",
    description: "Delete a connection by id or name; one still attached on a live server is refused.",
    args: connection.ConnectionRef,
    rest: { method: "DELETE", path: "/connections/:id" },
    run: (ctx, args) => connection.deleteConnection(ctx.db, ctx.principal, args),
  }),
];
