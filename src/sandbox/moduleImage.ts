/**
 * A tool's module loaded and its memory kept: the heap right after the module
 * evaluated, so the next call of the same code restores it in place of compiling
 * and evaluating the module again (~11 µs of a ~40 µs echo call, bench/RESULTS.md).
 * Each call still starts from a state no call has touched: the image is taken
 * before the call's input or context exist. Only a module whose top level ended at
 * once — no pending job or host operation, no console line — is kept; others load
 * with every call, as all did before. Values the top level computed (a timestamp,
 * say) are those of when the image was taken, as in a module loaded once per worker.
 */
import type { QuickJSHandle } from "quickjs-emscripten-core";
import { HeapSnapshot } from "./heapSnapshot.ts";
import { programBreak } from "./programBreak.ts";
import type { WasmLayout } from "./wasmLayout.ts";

/** Images a module keeps, the least recently used going first (each is the whole heap, ~230 KiB and up). */
const MAX_IMAGES = 8;
/** A module that needs a heap larger than this is loaded with every call instead. */
const MAX_IMAGE_HEAP_BYTES = 4 * 1024 * 1024;

export interface ModuleImage {
  /** The source it was loaded from (a codeKey is reused when a tool's code changes). */
  code: string;
  /** The module's default export, a handle valid whenever this image is in memory. */
  fn: QuickJSHandle;
  snapshot: HeapSnapshot;
}

/** The images of one QuickJS module (one wasm memory), by codeKey. */
export class ModuleImages {
  private readonly images = new Map<string, ModuleImage>();

  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly layout: WasmLayout,
    /** The static word holding the program break (programBreak.ts). */
    private readonly breakWord: number,
  ) {}

  /** The image of `code` under `key`, if one is kept; a stale one (other code) is dropped. */
  get(key: string, code: string): ModuleImage | undefined {
    const image = this.images.get(key);
    if (!image) return undefined;
    this.images.delete(key);
    if (image.code !== code) return undefined;
    this.images.set(key, image); // most recently used last
    return image;
  }

  /** Keeps the heap as it is now, the module of `code` just loaded; undefined when it is too large to keep. */
  take(key: string, code: string, fn: QuickJSHandle): ModuleImage | undefined {
    const end = programBreak(this.memory, this.breakWord);
    if (end <= this.layout.heapStart || end - this.layout.heapStart > MAX_IMAGE_HEAP_BYTES) return undefined;
    const image: ModuleImage = { code, fn, snapshot: HeapSnapshot.upTo(this.memory, this.layout, end) };
    this.images.delete(key);
    this.images.set(key, image);
    if (this.images.size > MAX_IMAGES) this.images.delete(this.images.keys().next().value!);
    return image;
  }
}
