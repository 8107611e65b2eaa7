/**
 * A dev tool's file and everything it imports, bundled with Bun.build into the
 * one ES module a platform tool is (`language: "js"`), and checked against what
 * the sandbox offers (SPEC "The sandbox": QuickJS, no `process`, `Bun`, file
 * system, `require` or module loading). What the sandbox lacks is refused here,
 * before anything is written to the platform (issue 16.3).
 */
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { isAbsolute, join, relative, sep } from "node:path";

/** Why a tool cannot run in the sandbox: the file that needs it and what it needs. */
export interface SandboxGap {
  /** Path relative to the folder (or `node_modules/<pkg>/…` for a package's file). */
  file: string;
  line?: number;
  /** What is missing, e.g. `imports "node:fs"` or `uses the global process`. */
  needs: string;
}

/** The bundled module, or every reason it cannot run in the sandbox. */
export type Bundle = { ok: true; source: string } | { ok: false; gaps: SandboxGap[] };

const BUILTINS = new Set([...builtinModules, "bun"]);
/** Globals of Bun and Node that the sandbox does not have (`require` is Bun's `__require` shim in a bundle). */
const HOST_GLOBALS = ["process", "Bun"] as const;
const sentinel = (name: string) => `__dzx_sandbox_lacks_${name}`;

/** Whether an import specifier names a Node or Bun builtin module. */
export function isBuiltin(specifier: string): boolean {
  return specifier.startsWith("node:") || specifier.startsWith("bun:") || BUILTINS.has(specifier) || BUILTINS.has(specifier.split("/")[0]);
}

/** A bundled file's path as the author knows it: inside the folder, or from node_modules on. */
function shown(dir: string, file: string): string {
  const inside = relative(dir, file).split(sep).join("/");
  if (!inside.startsWith("..") && !isAbsolute(inside)) return inside;
  const at = file.split(sep).join("/").lastIndexOf("node_modules/");
  return at >= 0 ? file.split(sep).join("/").slice(at) : file;
}

/** The line of a file where `name` is first used other than under `typeof` (a best guess for the message). */
function lineOfUse(path: string, name: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  // a require the bundle could not include is most likely one of a computed name
  const use = name === "require" ? /(?<![\w$.])require\s*(\(\s*[^'"`\s]|\.)/ : new RegExp(`(?<![\\w$.]|typeof\\s+)(?:globalThis\\.)?${name}(?![\\w$])`);
  const i = text.split("\n").findIndex((l) => use.test(l) && !/^\s*(\/\/|\*)/.test(l));
  return i < 0 ? undefined : i + 1;
}

/** The bundle's text per source file: Bun opens each module's part with a `// <path>` line. */
function sections(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const marks = [...text.matchAll(/^\/\/ (.+)$/gm)];
  marks.forEach((m, i) => {
    const part = text.slice(m.index, marks[i + 1]?.index ?? text.length);
    out.set(m[1], (out.get(m[1]) ?? "") + part);
  });
  return out;
}

/**
 * Uses of a host global in the bundled text, by file. Each free reference was replaced by its
 * sentinel (Bun's `define` leaves locals of the same name alone); a file that tests `typeof x`
 * guards its uses (packages that also run in browsers do), and `typeof x` alone is a safe probe.
 * `require` of what the bundle could not include goes through Bun's `__require` shim.
 */
function globalUses(dir: string, text: string): SandboxGap[] {
  const gaps: SandboxGap[] = [];
  for (const [section, part] of sections(text)) {
    const path = join(dir, section);
    const file = shown(dir, path);
    const needs: string[] = [];
    for (const name of HOST_GLOBALS) {
      const uses = [...part.matchAll(new RegExp(`(typeof\\s+)?${sentinel(name)}\\b`, "g"))];
      if (uses.some((m) => !m[1]) && !uses.some((m) => m[1])) needs.push(name);
    }
    if (/\b__require\b/.test(part)) needs.push("require");
    for (const name of needs) {
      const line = lineOfUse(path, name);
      gaps.push({ file, ...(line ? { line } : {}), needs: name === "require" ? "uses require() on a module the bundle cannot include" : `uses the global ${name}` });
    }
  }
  return gaps;
}

/** Bundles the tool at `entry` (an absolute path inside the folder `dir`). */
export async function bundleTool(dir: string, entry: string): Promise<Bundle> {
  const gaps: SandboxGap[] = [];
  const define: Record<string, string> = { "process.env.NODE_ENV": '"production"' };
  for (const name of HOST_GLOBALS) define[name] = define[`globalThis.${name}`] = sentinel(name);
  // the bundle names each module's section by its path from the working directory: from the folder, so
  // the source (and a second deploy's comparison) does not depend on where dzx deploy was run
  const cwd = process.cwd();
  process.chdir(dir);
  const result = await Bun.build({
    entrypoints: [entry],
    root: dir,
    target: "browser",
    format: "esm",
    define,
    throw: false,
    plugins: [
      {
        name: "dzx-sandbox-imports",
        setup(build) {
          build.onResolve({ filter: /.*/ }, (args) => {
            if (!isBuiltin(args.path)) return undefined;
            const file = shown(dir, args.importer);
            if (!gaps.some((g) => g.file === file && g.needs === `imports "${args.path}"`)) gaps.push({ file, needs: `imports "${args.path}"` });
            return { path: args.path, external: true };
          });
        },
      },
    ],
  }).finally(() => process.chdir(cwd));
  if (!result.success) {
    const first = result.logs.find((l) => l.level === "error") ?? result.logs[0];
    const pos = (first as { position?: { file?: string; line?: number } } | undefined)?.position;
    return { ok: false, gaps: [...gaps, { file: pos?.file ? shown(dir, pos.file) : shown(dir, entry), ...(pos?.line ? { line: pos.line } : {}), needs: `does not bundle: ${first?.message ?? "Bun.build failed"}` }] };
  }
  const text = await result.outputs[0].text();
  gaps.push(...globalUses(dir, text));
  if (gaps.length) return { ok: false, gaps };
  // only `typeof x` probes remain: give them their own names back
  let source = text;
  for (const name of HOST_GLOBALS) source = source.replaceAll(sentinel(name), name);
  return { ok: true, source };
}
