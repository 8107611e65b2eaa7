/**
 * A copy of a QuickJS module's memory taken once its context is set up, put
 * back after every call. Restoring ~150 KiB costs a few µs, where building a
 * fresh context costs ~100 µs and freeing one as much again: this is how every
 * call still starts from a pristine context (no value, global or prototype
 * change survives it) at a tenth of the price.
 *
 * What lives outside linear memory has to follow: quickjs-emscripten keeps the
 * host functions in a JS-side map that the C side frees from. Entries made
 * before the snapshot must outlive a call that lets their function be collected
 * (the restore brings the function back); entries made during a call die with it.
 */
import type { QuickJSRuntime } from "quickjs-emscripten-core";
import type { WasmLayout } from "./wasmLayout.ts";

/** The part of quickjs-emscripten's HostRefMap this relies on (a private API, pinned by the package version). */
interface HostRefs {
  groups: Map<number, Map<number, unknown>>;
  put(value: unknown): number;
  delete(id: number): void;
}

export class HeapSnapshot {
  private readonly statics: Uint8Array;
  private readonly heap: Uint8Array;
  /** Host refs made since the snapshot. */
  private readonly added: number[] = [];

  private constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly layout: WasmLayout,
    heapEnd: number,
    runtime: QuickJSRuntime,
  ) {
    const u8 = new Uint8Array(memory.buffer);
    this.statics = u8.slice(0, layout.staticEnd);
    this.heap = u8.slice(layout.heapStart, heapEnd);
    const refs = (runtime as unknown as { hostRefs: HostRefs }).hostRefs;
    const resident = new Set<number>();
    for (const group of refs.groups.values()) for (const id of group.keys()) resident.add(id);
    const put = refs.put.bind(refs);
    const del = refs.delete.bind(refs);
    refs.put = (value) => {
      const id = put(value);
      this.added.push(id);
      return id;
    };
    refs.delete = (id) => {
      if (resident.has(id)) return;
      const i = this.added.lastIndexOf(id);
      if (i >= 0) this.added.splice(i, 1);
      del(id);
    };
    this.dropAdded = () => {
      for (const id of this.added) del(id);
      this.added.length = 0;
    };
  }

  private readonly dropAdded: () => void;

  /**
   * Takes the snapshot. Memory never used is still zero in a module loaded
   * for it, so the heap's end is its last non-zero word.
   */
  static take(memory: WebAssembly.Memory, layout: WasmLayout, runtime: QuickJSRuntime): HeapSnapshot {
    const words = new Uint32Array(memory.buffer);
    let i = words.length;
    while (i > layout.heapStart / 4 && words[i - 1] === 0) i--;
    // whole 4 KiB pages: the tail of a page may be zero and still in use
    const heapEnd = Math.min(memory.buffer.byteLength, Math.ceil((i * 4) / 4096) * 4096);
    return new HeapSnapshot(memory, layout, heapEnd, runtime);
  }

  /** Bytes copied per restore. */
  get bytes(): number {
    return this.statics.byteLength + this.heap.byteLength;
  }

  /**
   * Puts the memory back as it was. Only between calls: nothing may be running
   * inside the module. Handles made since are dangling afterwards and must not
   * be used or freed.
   */
  restore(): void {
    const u8 = new Uint8Array(this.memory.buffer);
    u8.set(this.statics, 0);
    u8.set(this.heap, this.layout.heapStart);
    this.dropAdded();
  }
}
