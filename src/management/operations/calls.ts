/**
 * dwizi.calls.list, dwizi.usage.* and dwizi.notifications.list: the tool-call log
 * of the org's hosted servers, and the usage figures and notifications read off it.
 */
import { Type } from "@sinclair/typebox";
import { listCalls, type CallScope } from "../../platform/callLog.ts";
import { listNotifications } from "../../platform/notification.ts";
import { invalid } from "../../platform/domainError.ts";
import { getServer } from "../../platform/server.ts";
import { usageTimeseries, usageTotals } from "../../platform/usage.ts";
import { operation, type OpContext } from "../operation.ts";

const Range = Type.Union([Type.Literal("7d"), Type.Literal("30d"), Type.Literal("90d")], { description: "Window: 7d (default), 30d or 90d" });
const ServerFilter = Type.Optional(Type.String({ minLength: 1, description: "Only this server's calls (id or slug)" }));

const UsageArgs = Type.Object({ range: Type.Optional(Range), server: ServerFilter });

/** The window and server a usage operation asks about. */
async function usageWindow(ctx: OpContext, args: { range?: "7d" | "30d" | "90d"; server?: string }) {
  await ctx.flushCalls?.();
  const range = args.range ?? "7d";
  return { range, days: Number(range.slice(0, -1)), scope: await callScopeOf(ctx, args.server) };
}

/** The calls a reader asks about: one server's (one it can see), within its key's workspace when limited to one. */
async function callScopeOf(ctx: OpContext, ref: string | undefined): Promise<CallScope> {
  const serverId = ref ? (await getServer(ctx.db, ctx.principal, { id: ref })).id : undefined;
  return { serverId, workspaceId: ctx.principal.workspaceId };
}

/** dwizi.calls.list, dwizi.usage.get, dwizi.usage.timeseries, dwizi.notifications.list */
export const callOperations = [
  operation({
    name: "dwizi.calls.list",
    scope: "usage:read",
    description: "List recent tool calls on hosted servers, newest first: {server? (id or slug), limit?, before? (ISO time)}.",
    args: Type.Object({
      server: ServerFilter,
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
      before: Type.Optional(Type.String({ description: "ISO date-time; calls strictly before it" })),
    }),
    rest: { method: "GET", path: "/calls" },
    run: async (ctx, args) => {
      if (args.before && Number.isNaN(Date.parse(args.before))) throw invalid(`"before" must be an ISO date-time`);
      const scope = await callScopeOf(ctx, args.server);
      await ctx.flushCalls?.();
      return { calls: await listCalls(ctx.db, ctx.principal.orgId, { ...scope, limit: args.limit ?? 100, before: args.before ? new Date(args.before) : undefined }) };
    },
  }),
  operation({
    name: "dwizi.notifications.list",
    scope: "usage:read",
    description:
      "List what needs attention, most recent first: per server and tool whose calls failed in the window, a missing_secret (naming the secret and how to set it) or tool_failing notification: {hours? (default 24, up to 2160), limit?}.",
    args: Type.Object({
      hours: Type.Optional(Type.Integer({ minimum: 1, maximum: 2160, description: "Window in hours (default 24)" })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    }),
    rest: { method: "GET", path: "/notifications" },
    run: async (ctx, args) => {
      await ctx.flushCalls?.();
      const since = new Date(Date.now() - (args.hours ?? 24) * 3_600_000);
      const scope = await callScopeOf(ctx, undefined);
      return { notifications: await listNotifications(ctx.db, ctx.principal.orgId, { ...scope, since, limit: args.limit ?? 50 }) };
    },
  }),
  operation({
    name: "dwizi.usage.get",
    scope: "usage:read",
    description: "Usage totals over a window: calls, errors, average duration, bytes, and per tool: {range? (7d|30d|90d), server?}.",
    args: UsageArgs,
    rest: { method: "GET", path: "/usage" },
    run: async (ctx, args) => {
      const { range, days, scope } = await usageWindow(ctx, args);
      return { range, usage: await usageTotals(ctx.db, ctx.principal.orgId, new Date(Date.now() - days * 86_400_000), scope) };
    },
  }),
  operation({
    name: "dwizi.usage.timeseries",
    scope: "usage:read",
    description: "Calls and errors per UTC day, oldest first: {range? (7d|30d|90d), server?}.",
    args: UsageArgs,
    rest: { method: "GET", path: "/usage/timeseries" },
    run: async (ctx, args) => {
      const { range, days, scope } = await usageWindow(ctx, args);
      return { range, buckets: await usageTimeseries(ctx.db, ctx.principal.orgId, days, new Date(), scope) };
    },
  }),
];
