/**
 * A copy of a QuickJS module's memory taken once its context is set up, put
 * back after every call. Restoring ~180 KiB costs a few µs, where building a
 * fresh context costs ~130 µs and freeing one as much again: this is how every
 * call still starts from a pristine context (no value, global or prototype
 * change survives it) at a fraction of the price.
 *
 * What lives outside linear memory is not restored. quickjs-emscripten keeps host
 * functions in a JS-side map the C side frees from, so: host functions are made
 * only before the snapshot, and the handles made then are kept for the module's
 * life (their functions can never be freed, whatever a call deletes). A host
 * function made during a call would leave a dangling map entry behind.
 */
import type { WasmLayout } from "./wasmLayout.ts";

export class HeapSnapshot {
  private readonly statics: Uint8Array;
  private readonly heap: Uint8Array;

  private constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly layout: WasmLayout,
    heapEnd: number,
  ) {
    const u8 = new Uint8Array(memory.buffer);
    this.statics = u8.slice(0, layout.staticEnd);
    this.heap = u8.slice(layout.heapStart, heapEnd);
  }

  /**
   * Takes the snapshot. Memory never used is still zero in a module loaded
   * for it, so the heap's end is its last non-zero word.
   */
  static take(memory: WebAssembly.Memory, layout: WasmLayout): HeapSnapshot {
    const words = new Uint32Array(memory.buffer);
    let i = words.length;
    while (i > layout.heapStart / 4 && words[i - 1] === 0) i--;
    // whole 4 KiB pages: the tail of a page may be zero and still in use
    const heapEnd = Math.min(memory.buffer.byteLength, Math.ceil((i * 4) / 4096) * 4096);
    return new HeapSnapshot(memory, layout, heapEnd);
  }

  /**
   * Takes the snapshot of a module in use, whose heap ends at its program break
   * (programBreak.ts): past the break, memory holds only what earlier calls freed.
   */
  static upTo(memory: WebAssembly.Memory, layout: WasmLayout, heapEnd: number): HeapSnapshot {
    return new HeapSnapshot(memory, layout, Math.min(memory.buffer.byteLength, heapEnd));
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
  }
}
