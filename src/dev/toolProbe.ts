/**
 * Worker entry: imports each tool file of a dev folder and reports what it
 * exports. A fresh worker per reload has a fresh module registry, so an edited
 * helper a tool imports is read anew too; a module that hangs at load time
 * costs this worker (terminated at the deadline), never the dev server.
 */
import type { ProbeReply, ProbeRequest, ProbeResult } from "./probeProtocol.ts";
import { positionIn } from "./sourcePosition.ts";

declare const self: Worker;

/** Exports copied by value (structured clone refuses functions and such). */
function plain(v: unknown): unknown {
  if (v === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(v));
  } catch {
    return { __unserializable: true };
  }
}

self.onmessage = async (event: MessageEvent<ProbeRequest>) => {
  const { files, stamp } = event.data;
  for (const file of files) {
    let result: ProbeResult;
    try {
      const mod = await import(`${file}?v=${encodeURIComponent(stamp)}`);
      result = {
        ok: true,
        hasDefault: typeof mod.default === "function",
        description: plain(mod.description),
        title: plain(mod.title),
        inputSchema: plain(mod.inputSchema),
        outputSchema: plain(mod.outputSchema),
        annotations: plain(mod.annotations),
      };
    } catch (err) {
      result = { ok: false, message: messageOf(err), ...positionIn(err, file) };
    }
    self.postMessage({ type: "result", file, result } satisfies ProbeReply);
  }
  self.postMessage({ type: "done" } satisfies ProbeReply);
};

function messageOf(err: unknown): string {
  if (err instanceof Error || (typeof err === "object" && err !== null && "message" in err)) {
    const e = err as { name?: string; message?: string };
    const name = e.name && e.name !== "Error" && e.name !== "BuildMessage" && e.name !== "ResolveMessage" ? `${e.name}: ` : "";
    return `${name}${String(e.message ?? "")}`.slice(0, 2000);
  }
  return `Uncaught ${String(err)}`.slice(0, 2000);
}
