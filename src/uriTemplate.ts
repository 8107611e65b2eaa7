/**
 * RFC 6570 URI templates as resource templates use them (issue 14, point 5): parsed
 * once, validated with a message naming the problem, and matched against a URI
 * without regular expressions, in one left-to-right pass, so a template can neither
 * inject a pattern nor make matching backtrack.
 *
 * Supported: level 1 `{var}`, level 2 `{+var}` and `{#var}`, and level 3's `{a,b}`,
 * `{/a,b}`, `{.a}`, `{?a,b}` and `{&a,b}`. Level 4 modifiers (`{var*}`, `{var:3}`) and
 * `{;a}` are refused. Matching rules, so one URI reads one way only:
 * - a value is at least one character and ends at the first occurrence of what
 *   follows it (the next literal text, or the next expression's leading character);
 * - `{var}`, `{/a}` and `{.a}` values hold no `/`, `?` or `#`; `{+var}` and `{#var}`
 *   values may hold anything;
 * - two expressions must be separated by literal text unless the second starts with
 *   its own character (`/`, `.`, `#`, `?`, `&`);
 * - `{?a,b}` / `{&a,b}` come last; every query parameter is optional, may appear once,
 *   in any order, and a parameter the template does not name is no match;
 * - matched values are percent-decoded (bad percent-encoding is no match).
 */

/** The operators this module supports ("" is simple string expansion). */
type Operator = "" | "+" | "#" | "/" | "." | "?" | "&";

type Part = { literal: string } | { op: Operator; names: string[] };

/** A parsed template. */
export interface UriTemplate {
  readonly source: string;
  /** Variable names in order of appearance. */
  readonly variables: string[];
  /** The variables of the URI when it is an expansion of the template, else undefined. */
  match(uri: string): Record<string, string> | undefined;
}

/** Raised for a template that is not valid here; the message says why. */
export class UriTemplateError extends Error {}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_VARIABLES = 32;
/** What each operator puts before its expansion, and between its values. */
const LEAD: Record<Operator, string> = { "": "", "+": "", "#": "#", "/": "/", ".": ".", "?": "?", "&": "&" };
const SEPARATOR: Record<Operator, string> = { "": ",", "+": ",", "#": ",", "/": "/", ".": ".", "?": "&", "&": "&" };

/** Whether a URI is written as a template (holds an expression). */
export function isUriTemplate(uri: string): boolean {
  return uri.includes("{") || uri.includes("}");
}

/** Parses and checks a template; throws UriTemplateError naming the problem. */
export function parseUriTemplate(source: string): UriTemplate {
  const parts: Part[] = [];
  const variables: string[] = [];
  let i = 0;
  while (i < source.length) {
    const open = source.indexOf("{", i);
    const close = source.indexOf("}", i);
    if (close !== -1 && (open === -1 || close < open)) throw new UriTemplateError(`"}" at character ${close + 1} closes no expression`);
    if (open === -1) {
      parts.push({ literal: source.slice(i) });
      break;
    }
    if (open > i) parts.push({ literal: source.slice(i, open) });
    if (close === -1) throw new UriTemplateError(`the expression at character ${open + 1} is not closed with "}"`);
    const body = source.slice(open + 1, close);
    if (body.includes("{")) throw new UriTemplateError(`expressions cannot nest (character ${open + 1})`);
    parts.push(expression(body, open + 1, variables));
    i = close + 1;
  }
  if (variables.length === 0) throw new UriTemplateError("it has no {variable}");
  if (variables.length > MAX_VARIABLES) throw new UriTemplateError(`it has ${variables.length} variables; at most ${MAX_VARIABLES}`);
  checkLayout(parts);
  return { source, variables, match: (uri) => match(parts, uri) };
}

function expression(body: string, at: number, seen: string[]): Part {
  if (body === "") throw new UriTemplateError(`empty expression "{}" at character ${at}`);
  const first = body[0];
  if (first === ";" || first === "=" || first === "," || first === "!" || first === "@" || first === "|") {
    throw new UriTemplateError(`the operator "${first}" in {${body}} is not supported; use {var}, {+var}, {#var}, {/var}, {.var}, {?a,b} or {&a,b}`);
  }
  const op = ("+#/.?&".includes(first) ? first : "") as Operator;
  const names = body.slice(op.length).split(",");
  for (const name of names) {
    if (name.endsWith("*") || name.includes(":")) throw new UriTemplateError(`{${body}}: level 4 modifiers ("*", ":n") are not supported`);
    if (!NAME.test(name)) throw new UriTemplateError(`{${body}}: "${name}" is not a variable name (letters, digits and _, not starting with a digit)`);
    if (seen.includes(name)) throw new UriTemplateError(`the variable "${name}" appears twice`);
    seen.push(name);
  }
  if (names.length > 1 && (op === "+" || op === "#")) throw new UriTemplateError(`{${body}}: a {${op}…} expression takes one variable (its value may hold commas)`);
  return { op, names };
}

/** The rules that keep matching unambiguous. */
function checkLayout(parts: Part[]): void {
  const first = parts[0];
  if (!("literal" in first) || !/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(first.literal)) throw new UriTemplateError("it must start with a literal scheme, e.g. docs://{topic}");
  let query = false;
  parts.forEach((p, k) => {
    if ("literal" in p) {
      if (query) throw new UriTemplateError("{?…} and {&…} expressions must come last");
      return;
    }
    if (p.op === "?" || p.op === "&") {
      query = true;
      return;
    }
    if (query) throw new UriTemplateError("{?…} and {&…} expressions must come last");
    const next = parts[k + 1];
    if (next && !("literal" in next) && LEAD[next.op] === "") {
      throw new UriTemplateError(`{${p.op}${p.names.join(",")}} and {${next.op}${next.names.join(",")}} need literal text between them, or the boundary is ambiguous`);
    }
  });
}

/** Percent-decodes a matched value; undefined when it is not valid percent-encoding. */
function decode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

const FORBIDDEN_IN_PLAIN = /[/?#]/;

function match(parts: Part[], uri: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  let pos = 0;
  for (let k = 0; k < parts.length; k++) {
    const p = parts[k];
    if ("literal" in p) {
      if (!uri.startsWith(p.literal, pos)) return undefined;
      pos += p.literal.length;
      continue;
    }
    if (p.op === "?" || p.op === "&") return matchQuery(parts.slice(k) as { op: Operator; names: string[] }[], uri.slice(pos), out);
    const lead = LEAD[p.op];
    if (lead) {
      if (uri[pos] !== lead) return undefined;
      pos += 1;
    }
    const end = endOf(parts[k + 1], uri, pos);
    if (end === -1 || end <= pos) return undefined;
    const raw = uri.slice(pos, end);
    const values = p.names.length > 1 ? raw.split(SEPARATOR[p.op]) : [raw];
    if (values.length !== p.names.length) return undefined;
    const plain = p.op !== "+" && p.op !== "#";
    for (let v = 0; v < values.length; v++) {
      if (plain && FORBIDDEN_IN_PLAIN.test(values[v])) return undefined;
      const decoded = values[v] === "" ? undefined : decode(values[v]);
      if (decoded === undefined) return undefined;
      out[p.names[v]] = decoded;
    }
    pos = end;
  }
  return pos === uri.length ? out : undefined;
}

/** Where the value starting at `pos` ends: the first occurrence of what follows it (after at least one character). */
function endOf(next: Part | undefined, uri: string, pos: number): number {
  if (!next) return uri.length;
  if ("literal" in next) return uri.indexOf(next.literal, pos + 1);
  const at = uri.indexOf(LEAD[next.op], pos + 1);
  // an absent query is an empty expansion: the value runs to the end
  return at === -1 && (next.op === "?" || next.op === "&") ? uri.length : at;
}

function matchQuery(exprs: { op: Operator; names: string[] }[], rest: string, out: Record<string, string>): Record<string, string> | undefined {
  if (rest === "") return out;
  if (rest[0] !== LEAD[exprs[0].op]) return undefined;
  const names = new Set(exprs.flatMap((e) => e.names));
  for (const pair of rest.slice(1).split("&")) {
    const eq = pair.indexOf("=");
    const key = eq === -1 ? pair : pair.slice(0, eq);
    if (!names.has(key) || Object.hasOwn(out, key)) return undefined;
    const value = decode(eq === -1 ? "" : pair.slice(eq + 1));
    if (value === undefined) return undefined;
    out[key] = value;
  }
  return out;
}
