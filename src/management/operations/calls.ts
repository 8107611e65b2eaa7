/**
 * dwizi.calls.list: the recent tool-call log of the org's hosted servers.
 */
import { Type } from "@sinclair/typebox";
import { listCalls } from "../../platform/callLog.ts";
import { invalid } from "../../platform/domainError.ts";
import { getServer } from "../../platform/server.ts";
import { operation } from "../operation.ts";

/** dwizi.calls.list */
export const callOperations = [
  operation({
    name: "dwizi.calls.list",
    scope: "usage:read",
    description: "List recent tool calls on hosted servers, newest first: {server? (id or slug), limit?, before? (ISO time)}.",
    args: Type.Object({
      server: Type.Optional(Type.String({ minLength: 1, description: "Only this server's calls (id or slug)" })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
      before: Type.Optional(Type.String({ description: "ISO date-time; calls strictly before it" })),
    }),
    rest: { method: "GET", path: "/calls" },
    run: async (ctx, args) => {
      if (args.before && Number.isNaN(Date.parse(args.before))) throw invalid(`"before" must be an ISO date-time`);
      const serverId = args.server ? (await getServer(ctx.db, ctx.principal, { id: args.server })).id : undefined;
      return { calls: await listCalls(ctx.db, ctx.principal.orgId, { serverId, limit: args.limit ?? 100, before: args.before ? new Date(args.before) : undefined }) };
    },
  }),
];
