/**
 * Helpers for the suites that drive a SandboxPool directly: pools closed after
 * the file, calls with sensible defaults, and calls whose start is observable.
 */
import { afterAll } from "bun:test";
import { SandboxPool, type CallRequest } from "../../src/sandbox/pool.ts";
import type { CallOutcome } from "../../src/sandbox/protocol.ts";

export const MiB = 1024 * 1024;
const pools: SandboxPool[] = [];

/** Starts a pool (one worker, 1 s timeout unless told); it is closed after the file. */
export async function startPool(opts: Partial<Parameters<typeof SandboxPool.start>[0]> & { timeoutMs?: number } = {}): Promise<SandboxPool> {
  const { timeoutMs = 1000, ...rest } = opts;
  const pool = await SandboxPool.start({ size: 1, memoryBytes: 32 * MiB, perOrgQueue: 16, totalQueue: 64, defaults: { timeoutMs }, ...rest });
  pools.push(pool);
  return pool;
}

/** Closes every pool started in this file (call once per file, at top level). */
export function closePoolsAfterAll(): void {
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()));
  });
}

/** Runs a module with sensible defaults. */
export function call(pool: SandboxPool, code: string, extra: Partial<CallRequest> = {}): Promise<CallOutcome> {
  return pool.run({ orgId: "org-a", codeKey: null, code, kind: "module", ...extra });
}

export const OK = "export default async (input) => ({ ok: true, echo: input.v ?? null })";

/** A call plus a promise that resolves once the code has started running (it calls context.progress first). */
export function started(pool: SandboxPool, body: string, extra: Partial<CallRequest> = {}) {
  let markStarted!: () => void;
  const running = new Promise<void>((r) => (markStarted = r));
  let settled = false;
  const outcome = call(pool, `export default async (input, context) => { context.progress(1, 1, "started"); ${body} }`, {
    ...extra,
    onProgress: () => markStarted(),
  }).then((o) => ((settled = true), o));
  // if the call ends before reporting progress, "running" resolves too (the test then fails on the outcome, not by hanging)
  return { running: Promise.race([running, outcome.then(() => {})]), outcome, settled: () => settled };
}
