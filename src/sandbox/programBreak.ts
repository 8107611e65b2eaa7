/**
 * Where a QuickJS module's heap ends. Emscripten's sbrk keeps the program break in
 * one static word; malloc takes all its memory below it, so memory past it holds
 * nothing live (only what earlier calls freed, before a restore put the break back).
 * The word is found once per module: ask malloc for more than the heap has free,
 * and see which static word moves by as much (dlmalloc's top-chunk pointer moves
 * too; the break is the higher of the two). The heap is restored afterwards.
 */
import type { WasmLayout } from "./wasmLayout.ts";

/** More than a fresh module's heap has free, so malloc must move the break. */
const PROBE_BYTES = 2 * 1024 * 1024;

/** The index (in 32-bit words) of the static word holding the break, or undefined when it cannot be told. */
export function findBreakWord(memory: WebAssembly.Memory, layout: WasmLayout, malloc: ((bytes: number) => number) | undefined): number | undefined {
  if (typeof malloc !== "function" || layout.staticEnd <= 0) return undefined;
  const statics = layout.staticEnd >> 2;
  const before = new Uint32Array(memory.buffer).slice(0, statics);
  let ptr: number;
  try {
    ptr = malloc(PROBE_BYTES);
  } catch {
    return undefined;
  }
  if (!ptr) return undefined;
  const after = new Uint32Array(memory.buffer);
  let word: number | undefined;
  for (let i = 0; i < statics; i++) {
    const was = before[i]!;
    const now = after[i]!;
    // a break lies in the heap, and moved by at least what was asked, to past the block
    if (was < layout.heapStart || now - was < PROBE_BYTES || now < ptr + PROBE_BYTES || now > memory.buffer.byteLength) continue;
    if (word === undefined || now > after[word]!) word = i;
  }
  return word;
}

/** The break now: the end of the heap's live memory. */
export function programBreak(memory: WebAssembly.Memory, word: number): number {
  return new Uint32Array(memory.buffer, word * 4, 1)[0]!;
}
