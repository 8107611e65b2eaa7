/**
 * Where in a file an error happened: Bun's build errors carry a 1-based
 * `position` (their own `line` is 0-based); a runtime error at load time names
 * the file in its stack (its `line` may be another file's).
 */
import type { FilePosition } from "./probeProtocol.ts";

/** The error's position inside `file` (an absolute path), when it says. */
export function positionIn(err: unknown, file: string): FilePosition {
  const e = err as { position?: { line?: unknown; column?: unknown; file?: unknown }; stack?: unknown };
  const p = e?.position;
  if (p && typeof p.line === "number" && p.line > 0 && (p.file === undefined || p.file === file)) {
    return { line: p.line, ...(typeof p.column === "number" && p.column > 0 ? { column: p.column } : {}) };
  }
  if (typeof e?.stack === "string") {
    for (const l of e.stack.split("\n")) {
      const at = l.indexOf(file);
      if (at < 0) continue;
      const m = /^(?:\?[^:]*)?:(\d+):(\d+)/.exec(l.slice(at + file.length));
      if (m) return { line: Number(m[1]), column: Number(m[2]) };
    }
  }
  return {};
}

/** `tools/x.ts:3:7` (or without the numbers it lacks). */
export function where(relPath: string, pos: FilePosition): string {
  return pos.line ? `${relPath}:${pos.line}${pos.column ? `:${pos.column}` : ""}` : relPath;
}
