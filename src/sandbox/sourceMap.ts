/**
 * The few parts of a Source Map v3 the sandbox needs: decoding `mappings` (Base64
 * VLQ) and finding where a generated position came from. Used only on the error
 * path, for TypeScript that could not be compiled with its positions kept
 * (compile.ts); https://tc39.es/ecma426/ describes the format.
 */

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DIGIT = new Map([...BASE64].map((c, i) => [c, i]));

/** A position, 1-based line and column. */
export interface Position {
  line: number;
  column: number;
}

/** One mapping on a generated line: its column and the source line and column it came from (all 0-based). */
type Segment = [generatedColumn: number, sourceLine: number, sourceColumn: number];

/** The numbers of one segment (`AAAA`): each a VLQ, 5 bits per digit, sign in the lowest bit. */
function decodeSegment(text: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const c of text) {
    const digit = DIGIT.get(c);
    if (digit === undefined) break;
    value += (digit & 31) << shift;
    if (digit & 32) shift += 5;
    else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
}

/** A decoded source map: for each generated line, its mappings ordered by column. */
export class SourceMap {
  private constructor(private readonly lines: Segment[][]) {}

  /** Decodes a map's JSON text; a map that cannot be read maps nothing. */
  static parse(json: string): SourceMap {
    let mappings = "";
    try {
      mappings = String((JSON.parse(json) as { mappings?: unknown }).mappings ?? "");
    } catch {}
    const lines: Segment[][] = [];
    // source index and positions are relative to the previous segment across the whole map; columns restart each line
    let sourceLine = 0;
    let sourceColumn = 0;
    for (const line of mappings.split(";")) {
      const segments: Segment[] = [];
      let column = 0;
      for (const text of line.split(",")) {
        if (!text) continue;
        const v = decodeSegment(text);
        column += v[0] ?? 0;
        if (v.length < 4) continue;
        sourceLine += v[2]!;
        sourceColumn += v[3]!;
        segments.push([column, sourceLine, sourceColumn]);
      }
      lines.push(segments.sort((a, b) => a[0] - b[0]));
    }
    return new SourceMap(lines);
  }

  /** Where a generated position came from: the mapping at or before it on its line, plus how far into that token it is. */
  original(at: Position): Position | undefined {
    const segments = this.lines[at.line - 1];
    if (!segments?.length) return undefined;
    const column = at.column - 1;
    let found = segments[0]!;
    for (const s of segments) {
      if (s[0] > column) break;
      found = s;
    }
    return { line: found[1] + 1, column: found[2] + 1 + Math.max(0, column - found[0]) };
  }
}
