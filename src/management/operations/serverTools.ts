/**
 * dwizi.mcp.tools.{add,update,remove}: a server's attachments. One route takes both bodies:
 * dzx's `{toolId|toolSlug, alias, …}` and seed 001's `{integrationName, actionName,
 * integrationAlias, toolType, connectionId, …}`, told apart by their fields; the answer carries
 * the attachment under both names, `attachment` (dzx) and `tool` (seed 001).
 */
import { Type } from "@sinclair/typebox";
import { write } from "../../platform/assetTable.ts";
import * as attachment from "../../platform/attachment.ts";
import { invalid } from "../../platform/domainError.ts";
import { issueWebhookSecret } from "../../platform/trigger.ts";
import { operation } from "../operation.ts";
import { serverOf, webhookOf } from "./servers.ts";

/** Which tool the arguments name: dzx's toolId|toolSlug, or seed 001's integrationName + actionName (not both). */
function toolChoice(args: { toolId?: string; toolSlug?: string; integrationName?: string; actionName?: string }): attachment.ToolChoice {
  const ref = args.toolId ?? args.toolSlug;
  const seed = args.integrationName !== undefined || args.actionName !== undefined;
  if (ref && seed) throw invalid(`Name the tool once: "toolId"/"toolSlug", or seed 001's "integrationName" with "actionName", not both`);
  if (seed) {
    if (!args.integrationName || !args.actionName) {
      throw invalid(`Missing required field "${args.integrationName ? "actionName" : "integrationName"}": seed 001's body names the tool by "integrationName" and "actionName"`);
    }
    return { integrationName: args.integrationName, actionName: args.actionName };
  }
  if (!ref) throw invalid(`Pass "toolId" or "toolSlug" (or seed 001's "integrationName" and "actionName"): the tool to attach`);
  return { ref };
}

/** The attachment under both of its names. */
const answer = (a: ReturnType<typeof attachment.attachmentView>) => ({ attachment: a, tool: a });

/** dwizi.mcp.tools.{add,update,remove} */
export const serverToolOperations = [
  operation({
    name: "dwizi.mcp.tools.add",
    scope: "mcp:write",
    description:
      "Attach a tool to a server: {server, toolId|toolSlug, alias?, displayName?, description?, inputDefaults?, partialIds?, sortOrder?, secretBindings?, connectionId?, toolType?}, or seed 001's {integrationName, actionName, integrationAlias?, …}. All tools under one alias share an integration. " +
      "A TRIGGER gets an inbound webhook; its secret is returned once, as webhook.secret.",
    args: Type.Composite([
      Type.Object({
        server: Type.String({ minLength: 1, description: "The server's id or slug" }),
        toolId: Type.Optional(Type.String({ minLength: 1 })),
        toolSlug: Type.Optional(Type.String({ minLength: 1 })),
        integrationName: Type.Optional(Type.String({ minLength: 1, description: "Seed 001: the tool's integration (with actionName)" })),
        actionName: Type.Optional(Type.String({ minLength: 1, description: "Seed 001: the tool's slug within integrationName" })),
        toolType: Type.Optional(attachment.ToolType),
      }),
      attachment.AttachmentSettings,
    ]),
    rest: { method: "POST", path: "/mcp/servers/:id/tools", status: 201, rename: { id: "server" } },
    run: async (ctx, args) => {
      const { server: ref, toolId, toolSlug, integrationName, actionName, toolType, ...settings } = args;
      const choice = toolChoice({ toolId, toolSlug, integrationName, actionName });
      const s = await serverOf(ctx, { server: ref });
      return write(ctx.db, ctx.principal, "mcp.tools.add", "server", async (tx) => {
        const a = await attachment.attachTool(tx, ctx.principal.orgId, s, choice, settings, toolType);
        const detail = { attachmentId: a.id, toolId: a.toolId, alias: a.alias, connectionId: a.connectionId, toolType: a.toolType };
        // a trigger's secret is issued in the same transaction, and shown only in this answer
        const webhook = a.toolType === "TRIGGER" ? webhookOf(ctx, a.id, await issueWebhookSecret(tx, ctx.box, a)) : undefined;
        return { result: { ...answer(a), ...(webhook ? { webhook } : {}) }, targetId: s.id, detail };
      });
    },
  }),
  operation({
    name: "dwizi.mcp.tools.update",
    scope: "mcp:write",
    description: "Change an attachment's settings: {server, attachmentId, patch} (alias or integrationAlias, connectionId, displayName, …).",
    args: Type.Object({
      server: Type.String({ minLength: 1 }),
      attachmentId: Type.String({ minLength: 1, description: "The attachment's id (or the attached tool's id or slug)" }),
      patch: attachment.AttachmentPatch,
    }),
    rest: { method: "PATCH", path: "/mcp/servers/:id/tools/:toolId", body: "patch", rename: { id: "server", toolId: "attachmentId" } },
    run: async (ctx, args) => {
      const s = await serverOf(ctx, args);
      return write(ctx.db, ctx.principal, "mcp.tools.update", "server", async (tx) => {
        const a = await attachment.updateAttachment(tx, ctx.principal.orgId, s, args.attachmentId, args.patch);
        return { result: answer(a), targetId: s.id, detail: { attachmentId: a.id, fields: Object.keys(args.patch) } };
      });
    },
  }),
  operation({
    name: "dwizi.mcp.tools.remove",
    scope: "mcp:write",
    description: "Detach a tool from a server: {server, attachmentId}.",
    args: Type.Object({ server: Type.String({ minLength: 1 }), attachmentId: Type.String({ minLength: 1 }) }),
    rest: { method: "DELETE", path: "/mcp/servers/:id/tools/:toolId", rename: { id: "server", toolId: "attachmentId" } },
    run: async (ctx, args) => {
      const s = await serverOf(ctx, args);
      return write(ctx.db, ctx.principal, "mcp.tools.remove", "server", async (tx) => {
        const r = await attachment.detachTool(tx, s.id, args.attachmentId);
        return { result: r, targetId: s.id, detail: { attachmentId: r.id } };
      });
    },
  }),
];
