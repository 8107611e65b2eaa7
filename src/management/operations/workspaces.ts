/**
 * dwizi.workspaces.*: the groups an org's servers live in. They take the mcp:*
 * scopes: a workspace only groups servers, so whoever manages servers manages them.
 */
import { Type } from "@sinclair/typebox";
import * as workspace from "../../platform/workspace.ts";
import { listPage } from "../listPage.ts";
import { operation, PageArgs, Ref } from "../operation.ts";

/** dwizi.workspaces.{list,get,create,update,delete} */
export const workspaceOperations = [
  operation({
    name: "dwizi.workspaces.list",
    scope: "mcp:read",
    description: "List the org's workspaces (a workspace key sees only its own).",
    args: PageArgs,
    rest: { method: "GET", path: "/workspaces" },
    run: async (ctx, args) => listPage("workspaces", (await workspace.listWorkspaces(ctx.db, ctx.principal)).map(workspace.workspaceView), args),
  }),
  operation({
    name: "dwizi.workspaces.get",
    scope: "mcp:read",
    description: "Get one workspace by id or slug.",
    args: Ref,
    rest: { method: "GET", path: "/workspaces/:id" },
    run: async (ctx, args) => ({ workspace: workspace.workspaceView(await workspace.getWorkspace(ctx.db, ctx.principal, args)) }),
  }),
  operation({
    name: "dwizi.workspaces.create",
    scope: "mcp:write",
    description: "Create a workspace: {workspace: {name, slug?, description?}}. Needs an org-wide key.",
    args: Type.Object({ workspace: workspace.WorkspaceInput }),
    rest: { method: "POST", path: "/workspaces", body: "workspace", status: 201 },
    run: (ctx, args) => workspace.createWorkspace(ctx.db, ctx.principal, args.workspace),
  }),
  operation({
    name: "dwizi.workspaces.update",
    scope: "mcp:write",
    description: "Update a workspace by id or slug: {id|slug, patch: {name?, slug?, description?}}; the default workspace keeps its slug.",
    args: Type.Composite([Ref, Type.Object({ patch: workspace.WorkspacePatch })]),
    rest: { method: "PATCH", path: "/workspaces/:id", body: "patch" },
    run: (ctx, args) => workspace.updateWorkspace(ctx.db, ctx.principal, args, args.patch),
  }),
  operation({
    name: "dwizi.workspaces.delete",
    scope: "mcp:write",
    description: "Soft-delete an empty workspace (no live servers, no keys limited to it); the default one cannot be deleted.",
    args: Ref,
    rest: { method: "DELETE", path: "/workspaces/:id" },
    run: (ctx, args) => workspace.deleteWorkspace(ctx.db, ctx.principal, args),
  }),
];
