/**
 * Process counters for the Prometheus `/metrics` endpoint (SPEC "Operations").
 * Plain numbers bumped on the hot path; no per-org or per-server labels, so the
 * endpoint tells nothing about tenants.
 */

/** One sample of a metric; the first sample's help describes the metric. */
export interface Sample {
  help: string;
  value: number;
  labels?: Record<string, string>;
}

/** The counters one dzx process keeps. */
export class Metrics {
  httpRequests = 0;
  readonly toolCalls = { ok: 0, error: 0, cancelled: 0 };
  toolCallMsSum = 0;
  /** The shared rate store's health (SPEC "Scale-out"): requests decided by the in-process fallback, and outages. */
  readonly rateStore = { fallbacks: 0, outages: 0, degraded: false };

  /** Counts one finished tool call. */
  call(status: "ok" | "error" | "cancelled", durationMs: number): void {
    this.toolCalls[status]++;
    this.toolCallMsSum += durationMs;
  }

  /** The Prometheus text exposition of these counters, the given gauges and the given counters kept elsewhere. */
  render(gauges: Record<string, Sample[]>, counters: Record<string, Sample[]> = {}): string {
    const lines: string[] = [];
    const counter = (name: string, help: string, samples: [Record<string, string>, number][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [labels, v] of samples) lines.push(`${name}${fmt(labels)} ${v}`);
    };
    counter("dzx_http_requests_total", "HTTP requests served.", [[{}, this.httpRequests]]);
    counter("dzx_tool_calls_total", "Hosted tool calls by outcome.", Object.entries(this.toolCalls).map(([status, v]) => [{ status }, v]));
    counter("dzx_tool_call_duration_ms_total", "Sum of hosted tool call durations in milliseconds.", [[{}, Math.round(this.toolCallMsSum)]]);
    counter("dzx_rate_store_fallbacks_total", "Management requests rate-limited by this process's own windows because the shared rate store failed.", [[{}, this.rateStore.fallbacks]]);
    counter("dzx_rate_store_outages_total", "Times the shared rate store stopped answering.", [[{}, this.rateStore.outages]]);
    for (const [name, samples] of Object.entries(counters)) counter(name, samples[0]?.help ?? name, samples.map((x) => [x.labels ?? {}, x.value]));
    for (const [name, samples] of Object.entries(gauges)) {
      lines.push(`# HELP ${name} ${samples[0]?.help ?? name}`, `# TYPE ${name} gauge`);
      for (const s of samples) lines.push(`${name}${fmt(s.labels ?? {})} ${s.value}`);
    }
    return lines.join("\n") + "\n";
  }
}

function fmt(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, "_")}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}
