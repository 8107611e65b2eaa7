/**
 * Checks tool source at create/update: it must parse (JS or TS) and export a default
 * handler. Errors carry the line and column so the author can fix them.
 */
import { invalid } from "./domainError.ts";

const transpilers = {
  js: new Bun.Transpiler({ loader: "js" }),
  ts: new Bun.Transpiler({ loader: "ts" }),
};

/** Throws VALIDATION_ERROR with line/column on a syntax error or a missing default export. */
export function checkToolSource(source: string, language: "js" | "ts"): void {
  let exports: string[];
  try {
    exports = transpilers[language].scan(source).exports;
    transpilers[language].transformSync(source);
  } catch (err) {
    // several errors arrive as one AggregateError-like value whose first entry has the position
    type BuildMessage = { message?: string; position?: { line: number; column: number } | null };
    const e = ((err as { errors?: BuildMessage[] }).errors?.[0] ?? err) as BuildMessage;
    const pos = e.position;
    const where = pos ? ` at line ${pos.line}, column ${pos.column}` : "";
    throw invalid(`Syntax error in ${language} source${where}: ${e.message ?? String(err)}`, pos ? { line: pos.line, column: pos.column } : undefined);
  }
  if (!exports.includes("default")) {
    throw invalid(`Tool source must export a default handler: export default async (input, context) => { ... }`);
  }
}
