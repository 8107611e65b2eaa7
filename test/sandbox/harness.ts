/**
 * Shared helpers for the sandbox escape suites: a dzx started with a short tool
 * timeout and orgs whose limits (tool cap, egress rules) are set with the CLI
 * before start, and a bench that creates a hostile tool through the management
 * API, runs it with dwizi.tools.test while a well-behaved tool runs beside it,
 * and checks afterwards that the process and the next call are unaffected.
 */
import { expect } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { managementClient, op, rest } from "../support/client.ts";
import { freshDatabase } from "../support/database.ts";
import { cliKey, runCli, startDzx, type Dzx, type TestKey } from "../support/dzx.ts";

/** The server-wide tool timeout the suites run with (runaway cases end quickly). */
export const TIMEOUT_MS = 1500;
/** For a call that must end at a limit other than the timeout: on a loaded machine the slow work
 * (a microtask chain filling memory, a log flood) can take longer than TIMEOUT_MS. */
export const UNHURRIED = { extra: { timeoutMs: 30_000 } } as const;

/** What dwizi.tools.test returns. */
export interface TestResult {
  output: unknown;
  content: { type: string; text: string }[];
  structuredContent?: Record<string, unknown>;
  isError: boolean;
  error?: { message: string; limit?: string };
  logs: { level: string; message: string }[];
  durationMs: number;
}

/**
 * A well-behaved tool: every check below is something a hostile call could
 * have disturbed (globals, prototypes, builtins) if isolation failed.
 */
export const BENIGN_SOURCE = `export default async (input) => ({
  sum: input.a + input.b,
  process: typeof process,
  bun: typeof Bun,
  polluted: ({}).polluted ?? null,
  arrayPolluted: [].polluted ?? null,
  marker: globalThis.__marker ?? null,
  push: Array.prototype.push.toString().includes("[native code]"),
  json: JSON.stringify({ q: [1, "two"] }),
  consoleOk: typeof console.log === "function",
});`;

export const BENIGN_OUTPUT = {
  sum: 5,
  process: "undefined",
  bun: "undefined",
  polluted: null,
  arrayPolluted: null,
  marker: null,
  push: true,
  json: '{"q":[1,"two"]}',
  consoleOk: true,
};

/** One org's management client and helpers. */
export class Bench {
  private benignReady?: Promise<unknown>;

  constructor(
    readonly dzx: Dzx,
    readonly key: TestKey,
    readonly client: Client,
  ) {}

  /** Creates a tool (slug doubles as name); returns the tool view. */
  async create(slug: string, source: string, extra: Record<string, unknown> = {}): Promise<any> {
    return (await op(this.client, "dwizi.tools.create", { tool: { name: slug, slug, source, ...extra } })).tool;
  }

  /** Runs a tool once with dwizi.tools.test. */
  async run(slug: string, input: Record<string, unknown> = {}): Promise<TestResult> {
    return op(this.client, "dwizi.tools.test", { slug, input });
  }

  /** The well-behaved tool's result (created on first use). */
  async benign(): Promise<TestResult> {
    this.benignReady ??= this.create("benign", BENIGN_SOURCE);
    await this.benignReady;
    return this.run("benign", { a: 2, b: 3 });
  }

  /** Asserts the well-behaved tool still answers exactly as it should. */
  async expectBenign(result?: TestResult): Promise<void> {
    const r = result ?? (await this.benign());
    expect(r.error).toBeUndefined();
    expect(r.isError).toBe(false);
    expect(r.output).toEqual(BENIGN_OUTPUT);
  }

  /** Asserts the process still answers /health. */
  async expectHealthy(): Promise<void> {
    const res = await fetch(`${this.dzx.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  }

  /**
   * Creates the hostile tool, runs it with a well-behaved call running
   * concurrently, then checks the process and a following call. Returns the
   * hostile call's result for the case's own containment assertions.
   */
  async contained(slug: string, source: string, opts: { input?: Record<string, unknown>; extra?: Record<string, unknown> } = {}): Promise<TestResult> {
    await this.benign(); // make sure the bystander exists before the hostile call starts
    await this.create(slug, source, opts.extra);
    const [hostile, bystander] = await Promise.all([this.run(slug, opts.input ?? {}), this.benign()]);
    await this.expectBenign(bystander);
    await this.expectBenign();
    await this.expectHealthy();
    return hostile;
  }

  /** REST request with this org's key. */
  rest(method: string, path: string, body?: unknown) {
    return rest(this.dzx.url, this.key.key, method, path, body);
  }
}

/** Asserts a call failed with the named limit and a message naming it. */
export function expectLimit(r: TestResult, limit: string, message: RegExp): void {
  expect(r.isError).toBe(true);
  expect(r.output).toBeNull();
  expect(r.error?.limit).toBe(limit);
  expect(r.error?.message).toMatch(message);
  expect(r.content[0]?.text).toMatch(message);
}

/** Asserts a call failed (a tool error, not a protocol fault) with a message. */
export function expectToolError(r: TestResult, message: RegExp): void {
  expect(r.isError).toBe(true);
  expect(r.output).toBeNull();
  expect(r.error?.message).toMatch(message);
}

/** A running lab: the dzx, its keys and one bench per label. */
export interface Lab<K extends string> {
  dzx: Dzx;
  keys: Record<K, TestKey>;
  benches: Record<K, Bench>;
  close(): Promise<void>;
}

/**
 * Starts dzx for the given labels → orgs. Every org gets a tool cap of 500 (the
 * suites create many tools) plus its own `limits` (e.g. egress rules), set with
 * `dzx orgs limits --set` before the server starts.
 */
export async function startLab<K extends string>(
  orgs: Record<K, { org: string; limits?: Record<string, unknown> }>,
  env: Record<string, string> = {},
): Promise<Lab<K>> {
  const db = await freshDatabase();
  const keys = {} as Record<K, TestKey>;
  for (const [label, { org }] of Object.entries(orgs) as [K, { org: string }][]) keys[label] = await cliKey(db, org);
  const done = new Set<string>();
  for (const { org, limits } of Object.values(orgs) as { org: string; limits?: Record<string, unknown> }[]) {
    if (done.has(org)) continue;
    done.add(org);
    const set = await runCli(db, ["orgs", "limits", "--org", org, "--set", JSON.stringify({ caps: { tools: 500 }, ...limits })]);
    if (set.code !== 0) throw new Error(`orgs limits failed: ${set.stderr}`);
  }
  const dzx = await startDzx({ db, env: { DZX_TOOL_TIMEOUT_MS: String(TIMEOUT_MS), DZX_WORKERS: "2", ...env } });
  const benches = {} as Record<K, Bench>;
  for (const label of Object.keys(orgs) as K[]) benches[label] = new Bench(dzx, keys[label], await managementClient(dzx.url, keys[label].key));
  return {
    dzx,
    keys,
    benches,
    close: async () => {
      await Promise.all(Object.values<Bench>(benches).map((b) => b.client.close().catch(() => {})));
      await dzx.dispose();
    },
  };
}
