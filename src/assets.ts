/**
 * Every file dzx reads at run time besides its own code: the WebAssembly of the
 * embedded database and of the sandbox, and the worker entry points. Run from
 * source, these are paths in node_modules and src/; in the compiled binary
 * (scripts/build.ts), paths inside it (`/$bunfs/root/…`) — the same code reads
 * both, so the binary needs no node_modules (issue 15.3).
 */
import initdbWasm from "@electric-sql/pglite/initdb.wasm" with { type: "file" };
import pgliteData from "@electric-sql/pglite/pglite.data" with { type: "file" };
import pgliteWasm from "@electric-sql/pglite/pglite.wasm" with { type: "file" };
import quickjsWasm from "@jitl/quickjs-wasmfile-release-sync/wasm" with { type: "file" };

/** PGlite's Postgres and initdb modules and its file-system bundle (share/, lib/), which it would otherwise look for beside its own JavaScript. */
export const pgliteFiles = { wasm: pgliteWasm, initdbWasm, data: pgliteData };

/** The QuickJS interpreter the sandbox instantiates in each worker. */
export const quickjsWasmFile = quickjsWasm;

/**
 * Worker entry points. This file sits in src/, the common root of the binary's
 * entry points, so these URLs resolve from source (src/sandbox/worker.ts) and in
 * the binary alike (each worker is bundled as `/$bunfs/root/sandbox/worker.js`):
 * a `new URL("./worker.ts", import.meta.url)` in src/sandbox/ would not, as the
 * binary's main bundle lives at its root. scripts/build.ts builds these entries.
 */
export const workerEntries = {
  sandbox: new URL("./sandbox/worker.ts", import.meta.url).href,
  nativeSandbox: new URL("./sandbox/nativeWorker.ts", import.meta.url).href,
  pglite: new URL("./database/pgliteThread.ts", import.meta.url).href,
  /** `dzx dev`'s loader of tool files (src/dev/probe.ts). */
  devProbe: new URL("./dev/toolProbe.ts", import.meta.url).href,
};
