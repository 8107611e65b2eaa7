/**
 * Reads what a dev folder's tool files export, in a probe worker of its own
 * (toolProbe.ts): a fresh module registry per reload, and a module that hangs
 * (or kills its thread) at load time is reported broken, while the files after
 * it are probed in a new worker.
 */
import { workerEntries } from "../assets.ts";
import type { ProbeReply, ProbeRequest, ProbeResult } from "./probeProtocol.ts";

/** How long one tool file may take to load. */
export const PROBE_TIMEOUT_MS = 10_000;

/** Probes `files` in one worker until they are done or one of them stalls; returns what it got. */
function probeOnce(files: string[], stamp: string, timeoutMs: number, results: Map<string, ProbeResult>): Promise<void> {
  const worker = new Worker(workerEntries.devProbe);
  return new Promise<void>((resolve) => {
    let timer: Timer;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(finish, timeoutMs);
    };
    function finish() {
      clearTimeout(timer);
      worker.terminate();
      resolve();
    }
    worker.onmessage = (event: MessageEvent<ProbeReply>) => {
      const m = event.data;
      if (m.type === "result") {
        results.set(m.file, m.result);
        arm();
      } else finish();
    };
    worker.onerror = (event) => {
      event.preventDefault();
      finish();
    };
    arm();
    worker.postMessage({ files, stamp } satisfies ProbeRequest);
  });
}

/** Imports `files` (absolute paths) and returns what each exports, or why it failed to load. */
export async function probeTools(files: string[], stamp: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<Map<string, ProbeResult>> {
  const results = new Map<string, ProbeResult>();
  let left = files;
  while (left.length) {
    await probeOnce(left, stamp, timeoutMs, results);
    const i = left.findIndex((f) => !results.has(f));
    if (i < 0) break;
    // the first file with no answer stalled (or crashed) its worker; the ones after it get a new one
    results.set(left[i], { ok: false, message: `did not finish loading within ${timeoutMs / 1000} s (a loop or a wait at the top level of the module?)` });
    left = left.slice(i + 1);
  }
  return results;
}
