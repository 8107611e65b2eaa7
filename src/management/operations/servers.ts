/**
 * dwizi.mcp.*: hosted MCP server records, their attachments and their tokens.
 */
import { Type } from "@sinclair/typebox";
import * as attachment from "../../platform/attachment.ts";
import { invalid } from "../../platform/domainError.ts";
import * as server from "../../platform/server.ts";
import { listPage } from "../listPage.ts";
import { operation, PageArgs, Ref, type OpContext } from "../operation.ts";

const ServerRef = Type.Composite([
  Type.Object({ server: Type.Optional(Type.String({ minLength: 1, description: "The server's id or slug" })) }),
  Ref,
]);

/** The server an operation's `server` (or `id`/`slug`) names, as the principal may see it. */
export async function serverOf(ctx: OpContext, args: { server?: string; id?: string; slug?: string }) {
  const ref = args.server ?? args.id ?? args.slug;
  if (!ref) throw invalid(`Pass "server": the server's id or slug`);
  return server.getServer(ctx.db, ctx.principal, { id: ref });
}

/** Every dwizi.mcp.* operation. */
export const serverOperations = [
  operation({
    name: "dwizi.mcp.list",
    scope: "mcp:read",
    description: "List the org's hosted MCP servers with their endpoints.",
    args: PageArgs,
    rest: { method: "GET", path: "/mcp/servers" },
    run: async (ctx, args) =>
      listPage("servers", (await server.listServers(ctx.db, ctx.principal)).map((s) => server.serverView(s, ctx.baseUrl)), args),
  }),
  operation({
    name: "dwizi.mcp.get",
    scope: "mcp:read",
    description: "Get one server by id or slug, with its attached tools, resources and prompts.",
    args: Ref,
    rest: { method: "GET", path: "/mcp/servers/:id" },
    run: async (ctx, args) => server.serverDetail(ctx.db, await server.getServer(ctx.db, ctx.principal, args), ctx.baseUrl),
  }),
  operation({
    name: "dwizi.mcp.create",
    scope: "mcp:write",
    description: "Create a server from existing assets: {server: {name, slug?, mode?, toolIds, resourceIds, promptIds}}. Returns its bearer token once.",
    args: Type.Object({ server: server.ServerInput }),
    rest: { method: "POST", path: "/mcp/servers", body: "server", status: 201 },
    run: (ctx, args) => server.createServer(ctx.db, ctx.principal, args.server, ctx.baseUrl),
  }),
  operation({
    name: "dwizi.mcp.update",
    scope: "mcp:write",
    description: "Update a server by id or slug: {id|slug, patch}; toolIds/resourceIds/promptIds replace the attached sets.",
    args: Type.Composite([Ref, Type.Object({ patch: server.ServerPatch })]),
    rest: { method: "PATCH", path: "/mcp/servers/:id", body: "patch" },
    run: (ctx, args) => server.updateServer(ctx.db, ctx.principal, args, args.patch, ctx.baseUrl),
  }),
  operation({
    name: "dwizi.mcp.delete",
    scope: "mcp:write",
    description: "Soft-delete a server; its endpoint stops answering.",
    args: Ref,
    rest: { method: "DELETE", path: "/mcp/servers/:id" },
    run: (ctx, args) => server.deleteServer(ctx.db, ctx.principal, args),
  }),
  operation({
    name: "dwizi.mcp.rotate_token",
    scope: "mcp:write",
    description: "Issue a new bearer token for a server (shown once); the old one stops working at once.",
    args: Ref,
    rest: { method: "POST", path: "/mcp/servers/:id/regenerate-token" },
    run: (ctx, args) => server.rotateServerToken(ctx.db, ctx.principal, args, ctx.baseUrl),
  }),
  operation({
    name: "dwizi.mcp.tools.list",
    scope: "mcp:read",
    description: "List the tools attached to a server, in exposure order, with their exposed names.",
    args: ServerRef,
    rest: { method: "GET", path: "/mcp/servers/:id/tools", rename: { id: "server" } },
    run: async (ctx, args) => ({ tools: await attachment.listAttachments(ctx.db, (await serverOf(ctx, args)).id) }),
  }),
  operation({
    name: "dwizi.mcp.resources.list",
    scope: "mcp:read",
    description: "List the resources attached to a server.",
    args: ServerRef,
    rest: { method: "GET", path: "/mcp/servers/:id/resources", rename: { id: "server" } },
    run: async (ctx, args) => ({ resources: (await server.serverDetail(ctx.db, await serverOf(ctx, args), ctx.baseUrl)).resources }),
  }),
  operation({
    name: "dwizi.mcp.prompts.list",
    scope: "mcp:read",
    description: "List the prompts attached to a server.",
    args: ServerRef,
    rest: { method: "GET", path: "/mcp/servers/:id/prompts", rename: { id: "server" } },
    run: async (ctx, args) => ({ prompts: (await server.serverDetail(ctx.db, await serverOf(ctx, args), ctx.baseUrl)).prompts }),
  }),
];
