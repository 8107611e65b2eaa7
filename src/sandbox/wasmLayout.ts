/**
 * Where an emscripten module keeps its state in linear memory: static data and
 * bss from 0, then the C stack (growing down), then the malloc heap from the
 * stack's top. A heap snapshot copies the first and last of these and skips the
 * stack, whose contents are dead between calls.
 */

/** The stack quickjs-emscripten builds with (-s STACK_SIZE=5MB). */
const STACK_BYTES = 5 * 1024 * 1024;
/** bss (zero-initialised statics) sits between the data segments and the stack; it is a few KiB. */
const MAX_BSS_BYTES = 256 * 1024;

/** Byte offsets in linear memory. */
export interface WasmLayout {
  /** Static data and bss: [0, staticEnd). */
  staticEnd: number;
  /** The heap starts here (the initial stack pointer: the stack grows down from it). */
  heapStart: number;
}

/**
 * Reads the layout off the module's bytes: the first global is the stack pointer
 * and its initial value the stack's top; the data section tells where static data
 * ends. When the stack's assumed size does not fit what the binary says, the whole
 * of [0, heapStart) counts as static — slower to restore, never wrong.
 */
export function wasmLayout(bytes: Uint8Array): WasmLayout | undefined {
  let p = 8;
  /** A LEB128 number; signed ones (i32.const) sign-extend from their last byte. */
  const leb = (signed: boolean) => {
    let r = 0;
    let shift = 0;
    let b: number;
    do {
      b = bytes[p++]!;
      r += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return signed && b & 0x40 ? r - 2 ** shift : r;
  };
  const u = () => leb(false);
  const s = () => leb(true);
  let stackTop: number | undefined;
  let dataEnd = 0;
  try {
    while (p < bytes.length) {
      const id = bytes[p++]!;
      const size = u();
      const end = p + size;
      if (id === 2) {
        // an imported global would come first in the index space: then global 0 is not ours to read
        const n = u();
        for (let i = 0; i < n; i++) {
          const moduleName = u();
          p += moduleName;
          const fieldName = u();
          p += fieldName;
          const kind = bytes[p++]!;
          if (kind === 3) return undefined;
          if (kind === 0) u();
          else if (kind === 1) (p++, bytes[p++]! & 1 ? (u(), u()) : u());
          else if (kind === 2) (bytes[p++]! & 1 ? (u(), u()) : u());
        }
      } else if (id === 6) {
        u(); // count
        const type = bytes[p++]!;
        const mutable = bytes[p++]!;
        if (type !== 0x7f || mutable !== 1 || bytes[p++] !== 0x41) return undefined;
        stackTop = s();
      } else if (id === 11) {
        const n = u();
        for (let i = 0; i < n; i++) {
          const flags = u();
          if (flags !== 0) return undefined; // passive or multi-memory segments: not the plain layout
          if (bytes[p++] !== 0x41) return undefined;
          const offset = s();
          p++; // end
          const len = u();
          p += len;
          dataEnd = Math.max(dataEnd, offset + len);
        }
      }
      p = end;
    }
  } catch {
    return undefined;
  }
  if (stackTop === undefined || stackTop <= 0) return undefined;
  const stackEnd = stackTop - STACK_BYTES;
  const fits = stackEnd >= dataEnd && stackEnd - dataEnd <= MAX_BSS_BYTES;
  return { staticEnd: fits ? stackEnd : stackTop, heapStart: stackTop };
}
