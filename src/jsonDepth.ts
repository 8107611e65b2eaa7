/**
 * How deeply JSON may nest. Every body dzx parses and every value a tool returns is held
 * to one bound (DZX_MAX_JSON_DEPTH, default 64): far past what any schema or argument
 * needs, far below what breaks the drivers (PGlite spins on a value ~12,000 deep and
 * PostgreSQL refuses a statement holding one) or the stack of JSON.stringify.
 */

/** The default bound (DZX_MAX_JSON_DEPTH). */
export const DEFAULT_JSON_DEPTH = 64;

/**
 * Whether JSON text nests deeper than `limit` (the top-level object or array is depth 1).
 * A scan of the text: it runs before JSON.parse, so a hostile body costs no parse, and it
 * needs no stack. Text that is not valid JSON is left to the parser to name.
 */
export function textTooDeep(text: string, limit: number): boolean {
  // passing `limit` takes at least limit + 1 opening brackets
  if (text.length <= limit) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > limit) return true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return false;
}

/** Whether a parsed value nests deeper than `limit`; iterative, so any depth is measured without a stack overflow. */
export function valueTooDeep(value: unknown, limit: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (depth > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v as object)) {
      if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** The message that names the bound, for every surface that refuses a value past it. */
export function tooDeepMessage(what: string, limit: number): string {
  return `${what} is nested deeper than ${limit} levels (the limit is ${limit}, DZX_MAX_JSON_DEPTH)`;
}
