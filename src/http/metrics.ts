/**
 * GET /metrics: Prometheus text exposition of the process's counters and gauges.
 */
import { Elysia } from "elysia";
import type { Services } from "../services.ts";

/** Elysia plugin serving /metrics. */
export function metrics(services: Services) {
  return new Elysia({ name: "dzx/metrics" }).get("/metrics", () => {
    const s = services;
    const log = s.callLog.stats;
    const counters = {
      dzx_call_log_rows_total: [
        { help: "Call-log rows since start by what became of them (reduced: stored with a note in place of values that could not be written; dropped: not stored, and logged).", value: log.written - log.reduced, labels: { outcome: "written" } },
        { help: "", value: log.reduced, labels: { outcome: "reduced" } },
        { help: "", value: log.dropped, labels: { outcome: "dropped" } },
      ],
      dzx_call_log_batch_failures_total: [{ help: "Call-log batch writes that failed since start (their rows were then written one by one).", value: log.batchFailures }],
    };
    const body = s.metrics.render({
      dzx_sessions: [
        { help: "Open MCP sessions (initialize lane and listen streams).", value: s.hostedSessions.size, labels: { endpoint: "hosted" } },
        { help: "Open MCP sessions (initialize lane and listen streams).", value: s.managementSessions.size, labels: { endpoint: "management" } },
      ],
      dzx_mcp_requests_in_flight: [{ help: "MCP requests being served that outlived their first turn (tool calls, management operations), on every endpoint.", value: s.drain.size }],
      dzx_hosted_servers_loaded: [{ help: "Hosted servers with a live actor in this process.", value: s.servers.size }],
      dzx_rate_store_degraded: [{ help: "1 while the shared rate store fails and this process limits keys on its own.", value: s.metrics.rateStore.degraded ? 1 : 0 }],
      dzx_sandbox_workers: [{ help: "Sandbox worker threads.", value: s.sandbox.size }],
      dzx_sandbox_waiting_calls: [{ help: "Calls waiting for a sandbox worker.", value: s.sandbox.waiting }],
      dzx_sandbox_asking_calls: [{ help: "Calls with a question to their client in flight (context.elicit / context.sample).", value: s.sandbox.asking }],
      dzx_sandbox_parked_calls: [{ help: "Calls set aside by their workers while they wait on their clients (they hold no worker).", value: s.sandbox.parked }],
      dzx_sandbox_workers_replaced: [{ help: "Workers replaced after a crash, overrun or cancellation since start.", value: s.sandbox.replaced }],
      dzx_sandbox_stuck_threads: [{ help: "Terminated workers still running native code that cannot be interrupted (at the lowest priority until it ends).", value: s.sandbox.stuckThreads }],
    }, counters);
    return new Response(body, { headers: { "content-type": "text/plain; version=0.0.4" } });
  });
}
