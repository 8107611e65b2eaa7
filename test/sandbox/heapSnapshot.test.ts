/**
 * The heap snapshot's fast path: the layout is read off the real QuickJS binary,
 * so a restore copies static data and heap but skips the 5 MiB stack. A parse
 * that silently failed would still be correct, only ~30× slower per call.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { wasmLayout } from "../../src/sandbox/wasmLayout.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

test("the QuickJS binary's layout is read: statics end where the 5 MiB stack begins, the heap starts at its top", async () => {
  const bytes = new Uint8Array(await Bun.file(Bun.resolveSync("@jitl/quickjs-wasmfile-release-sync/wasm", import.meta.dir)).arrayBuffer());
  const layout = wasmLayout(bytes);
  expect(layout).toBeDefined();
  expect(layout!.heapStart - layout!.staticEnd).toBe(5 * 1024 * 1024);
  expect(layout!.staticEnd).toBeGreaterThan(0);
});

test("a binary that is not the plain emscripten layout gets no layout (the restore then copies everything)", () => {
  expect(wasmLayout(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]))).toBeUndefined();
});
