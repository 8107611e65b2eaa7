/**
 * Error positions in the author's own source (SPEC "The sandbox", issue 15.6): of
 * an engine's stack only the frames in the tool's or script's own code are kept
 * (never the prelude, the bridge, natives or a host path), mapped back to the
 * lines and columns the author wrote, and shown as
 * `TypeError: … (at tool.ts:4:15)` followed by a short stack. All of it runs on
 * the error path only.
 */
import { basename, dirname, relative } from "node:path";
import { SourceMap, type Position } from "./sourceMap.ts";

/** The names QuickJS evaluates a tool module and a CODE-mode script under (quickjsHost.ts). */
export const MODULE_FILE = "tool.js";
export const SCRIPT_FILE = "script.js";
/** How a TypeScript tool is named in its errors (compile.ts adds it as a trailing `//# sourceURL=`). */
export const TS_FILE = "tool.ts";
/** Lines the CODE-mode wrapper puts before a script's first line (quickjsHost.ts). */
export const SCRIPT_PREFIX_LINES = 1;
/** Frames shown; a deep recursion says how many more there were. */
const MAX_FRAMES = 8;

/** One line of a stack: the function (when named) and where it was. */
export interface Frame extends Position {
  fn?: string;
  file: string;
}

/** The frames of a stack in the `    at fn (file:line:col)` form QuickJS and Bun both print. */
export function parseStack(stack: unknown): Frame[] {
  if (typeof stack !== "string") return [];
  const frames: Frame[] = [];
  for (const text of stack.split("\n")) {
    const m = /^\s*at (?:(.*?) \()?(.+?):(\d+):(\d+)\)?\s*$/.exec(text);
    if (m) frames.push({ fn: m[1] || undefined, file: m[2]!, line: Number(m[3]), column: Number(m[4]) });
  }
  return frames;
}

const TRAILER_URL = "\n//# sourceURL=";
const TRAILER_MAP = "\n//# sourceMappingURL=data:application/json;base64,";

/** How positions in the code QuickJS evaluated lead back to the author's source. */
export class SourceOrigin {
  private readonly file: string;
  private readonly shown: string;
  private readonly lineOffset: number;
  private readonly lastLine: number;
  private readonly map?: SourceMap;

  /** `code` as the host received it (a tool module, compiled; or a script's body). */
  constructor(code: string, kind: "module" | "script" | "check") {
    const script = kind === "script";
    this.file = script ? SCRIPT_FILE : MODULE_FILE;
    this.lineOffset = script ? SCRIPT_PREFIX_LINES : 0;
    const url = code.lastIndexOf(TRAILER_URL);
    this.shown = url >= 0 && !script ? code.slice(url + TRAILER_URL.length).split("\n", 1)[0]!.trim() || this.file : this.file;
    const map = code.lastIndexOf(TRAILER_MAP);
    if (map >= 0 && !script) this.map = SourceMap.parse(Buffer.from(code.slice(map + TRAILER_MAP.length).trim(), "base64").toString());
    let lines = 1;
    for (let i = code.indexOf("\n"); i >= 0; i = code.indexOf("\n", i + 1)) lines++;
    this.lastLine = lines;
  }

  /** The frame as the author knows it, or undefined when it is not in their code. */
  own(frame: Frame): Frame | undefined {
    if (frame.file !== this.file) return undefined;
    // the script wrapper's own lines (its head, its closing brace) count as the script's first and last
    let at: Position | undefined = { line: Math.min(Math.max(frame.line - this.lineOffset, 1), this.lastLine), column: frame.column };
    if (this.map) at = this.map.original(at);
    if (!at) return undefined;
    // a script's top level is the wrapper function QuickJS names "default"
    const fn = frame.fn === "<anonymous>" || (this.lineOffset && frame.fn === "default") ? undefined : frame.fn;
    return { fn, file: this.shown, ...at };
  }
}

/** The frames of a natively run tool (a file on the operator's disk) that are in its own folder, named relative to it. */
export function nativeFrames(frames: Frame[], toolPath: string): Frame[] {
  const dir = dirname(toolPath);
  const own: Frame[] = [];
  for (const f of frames) {
    const path = f.file.replace(/^file:\/\//, "").replace(/\?.*$/, "");
    if (!path.startsWith(`${dir}/`) || path.includes("/node_modules/")) continue;
    const fn = f.fn?.replace(/^async /, "");
    own.push({ ...f, file: path === toolPath ? basename(path) : relative(dir, path), fn: fn === "starDefault" ? "default" : fn === "<anonymous>" ? undefined : fn });
  }
  return own;
}

/** `file:line:column`. */
const where = (f: Frame) => `${f.file}:${f.line}:${f.column}`;

/**
 * A failed call's text: the error's headline with where it was thrown, then the
 * author's frames. Leading frames of the error's own constructor (a custom Error
 * class whose name is set) are left out, so the position is the throw. A headline
 * that already ends with a position (a called tool's error) keeps its own, and its
 * further lines (that tool's stack) come before the caller's frames.
 */
export function positionedMessage(headline: string, frames: Frame[], errorName?: string): string {
  let i = 0;
  while (errorName && i < frames.length - 1 && frames[i]!.fn === errorName) i++;
  const shown = frames.slice(i);
  const [first = "", ...rest] = headline.split("\n");
  const lines = [shown[0] && !/\(at [^()]*:\d+:\d+\)$/.test(first) ? `${first} (at ${where(shown[0])})` : first, ...rest];
  for (const f of shown.slice(0, MAX_FRAMES)) lines.push(`    at ${f.fn ? `${f.fn} (${where(f)})` : where(f)}`);
  if (shown.length > MAX_FRAMES) lines.push(`    … ${shown.length - MAX_FRAMES} more`);
  return lines.join("\n");
}
