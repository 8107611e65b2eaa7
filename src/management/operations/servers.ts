/**
 * dwizi.mcp.*: hosted MCP server records, their attachments and their tokens.
 */
import { Type } from "@sinclair/typebox";
import { write } from "../../platform/assetTable.ts";
import * as attachment from "../../platform/attachment.ts";
import { recordAudit } from "../../platform/audit.ts";
import { declarationsOf, executeCode, loadServerApi } from "../../codemode/serverApi.ts";
import { NEVER_CANCELLED } from "../../mcp/cancellation.ts";
import { invalid } from "../../platform/domainError.ts";
import * as server from "../../platform/server.ts";
import { issueWebhookSecret, webhookPath } from "../../platform/trigger.ts";
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

/** A trigger's webhook as shown once: its URL and the secret just issued. */
/** A trigger's webhook as its add and rotate answers show it: the URL and the secret, this once. */
export const webhookOf = (ctx: OpContext, attachmentId: string, secret: string) => ({ url: `${ctx.baseUrl}${webhookPath(attachmentId)}`, secret });

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
  operation({
    name: "dwizi.mcp.execute_code",
    // a script runs the server's tools, which may act on the world: what may change a server may run it
    scope: "mcp:write",
    description:
      "Run JavaScript against a server as its CODE-mode execute does (any mode): {server, code}; `await tools.<name>(input)` calls its tools. Answers {content, isError}; spends the org's sandbox budget.",
    args: Type.Object({
      server: Type.String({ minLength: 1, description: "The server's id or slug" }),
      code: Type.String({ minLength: 1, maxLength: 100_000, description: "The body of an async function: call tools with await tools.name(input), return the result" }),
    }),
    rest: { method: "POST", path: "/mcp/servers/:id/execute-code", rename: { id: "server" } },
    run: async (ctx, args) => {
      if (!args.code.trim()) throw invalid(`"code" is empty: pass the body of an async function`);
      if (!ctx.hosted) throw new Error("execute-code needs the hosted-call dependencies in its context");
      const s = await serverOf(ctx, args);
      const api = await loadServerApi(ctx.db, s.id);
      const r = await executeCode(api, ctx.hosted, { requestId: crypto.randomUUID(), signal: ctx.signal ?? NEVER_CANCELLED }, args.code);
      // the script's tools may have acted on the world: who ran code on which server is audited (the code itself is in the call log)
      await recordAudit(ctx.db, { orgId: ctx.principal.orgId, actorKeyId: ctx.principal.keyId, operation: "mcp.execute_code", targetType: "server", targetId: s.id, detail: { isError: r.isError === true } });
      // seed 001's answer, verbatim
      return { content: r.content, isError: r.isError === true };
    },
  }),
  operation({
    name: "dwizi.mcp.declarations",
    scope: "mcp:read",
    description: "TypeScript declarations (as read_api gives them) of a server's tools under one alias, or of the tool with that slug: {server, integrationOrAlias}.",
    args: Type.Object({
      server: Type.String({ minLength: 1, description: "The server's id or slug" }),
      integrationOrAlias: Type.String({ minLength: 1, description: "An attachment alias, or a tool's slug" }),
    }),
    rest: { method: "GET", path: "/mcp/servers/:id/declarations/:integrationOrAlias", rename: { id: "server" } },
    run: async (ctx, args) => ({ declarations: declarationsOf(await loadServerApi(ctx.db, (await serverOf(ctx, args)).id), args.integrationOrAlias) }),
  }),
  operation({
    name: "dwizi.mcp.tools.rotate_webhook_secret",
    scope: "mcp:write",
    description: "Issue a new webhook secret for a TRIGGER attachment (shown once): {server, attachmentId}; the old one stops working at once.",
    args: Type.Object({ server: Type.String({ minLength: 1 }), attachmentId: Type.String({ minLength: 1 }) }),
    rest: { method: "POST", path: "/mcp/servers/:id/tools/:toolId/rotate-webhook-secret", rename: { id: "server", toolId: "attachmentId" } },
    run: async (ctx, args) => {
      const s = await serverOf(ctx, args);
      return write(ctx.db, ctx.principal, "mcp.tools.rotate_webhook_secret", "server", async (tx) => {
        const a = await attachment.findAttachment(tx, s.id, args.attachmentId);
        const secret = await issueWebhookSecret(tx, ctx.box, a);
        return { result: { attachmentId: a.id, webhook: webhookOf(ctx, a.id, secret) }, targetId: s.id, detail: { attachmentId: a.id } };
      });
    },
  }),
];
