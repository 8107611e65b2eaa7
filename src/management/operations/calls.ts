/**
 * dwizi.calls.list and dwizi.usage.*: the tool-call log of the org's hosted
 * servers and the usage figures computed from it.
 */
import { Type } from "@sinclair/typebox";
import { listCalls } from "../../platform/callLog.ts";
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
  return { range, days: Number(range.slice(0, -1)), serverId: await serverIdOf(ctx, args.server) };
}

async function serverIdOf(ctx: OpContext, ref: string | undefined): Promise<string | undefined> {
  return ref ? (await getServer(ctx.db, ctx.principal, { id: ref })).id : undefined;
}

/** dwizi.calls.list, dwizi.usage.get, dwizi.usage.timeseries */
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
      const serverId = await serverIdOf(ctx, args.server);
      await ctx.flushCalls?.();
      return { calls: await listCalls(ctx.db, ctx.principal.orgId, { serverId, limit: args.limit ?? 100, before: args.before ? new Date(args.before) : undefined }) };
    },
  }),
  operation({
    name: "dwizi.usage.get",
    scope: "usage:read",
    description: "Usage totals over a window: calls, errors, average duration, bytes, and per tool: {range? (7d|30d|90d), server?}.",
    args: UsageArgs,
    rest: { method: "GET", path: "/usage" },
    run: async (ctx, args) => {
      const { range, days, serverId } = await usageWindow(ctx, args);
      return { range, usage: await usageTotals(ctx.db, ctx.principal.orgId, new Date(Date.now() - days * 86_400_000), serverId) };
    },
  }),
  operation({
    name: "dwizi.usage.timeseries",
    scope: "usage:read",
    description: "Calls and errors per UTC day, oldest first: {range? (7d|30d|90d), server?}.",
    args: UsageArgs,
    rest: { method: "GET", path: "/usage/timeseries" },
    run: async (ctx, args) => {
      const { range, days, serverId } = await usageWindow(ctx, args);
      return { range, buckets: await usageTimeseries(ctx.db, ctx.principal.orgId, days, new Date(), serverId) };
    },
  }),
];
