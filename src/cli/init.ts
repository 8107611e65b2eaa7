/**
 * `dzx init <dir>`: writes a starter dev folder — mcp.json, one tool, one
 * resource, one prompt, a context.ts and a README — and refuses, writing
 * nothing, when any of those files exists already.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { CliError } from "./flags.ts";

/** The folder's name as an endpoint segment. */
function nameOf(dir: string): string {
  const n = basename(resolve(dir)).toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^[^a-z0-9]+/, "").slice(0, 64);
  return n || "my-server";
}

/** The starter files, by path inside the folder. */
export function starterFiles(name: string): Record<string, string> {
  return {
    "mcp.json": `${JSON.stringify({ name, version: "0.1.0", description: `${name}: tools served by dzx` }, null, 2)}\n`,
    "tools/greet.ts": `export const description = "Greets someone by name";

export const inputSchema = {
  type: "object",
  properties: { name: { type: "string", description: "Who to greet" } },
  required: ["name"],
};

export const outputSchema = {
  type: "object",
  properties: { greeting: { type: "string" }, requestId: { type: "string" } },
  required: ["greeting"],
};

// args: the validated arguments; context: what context.ts returned, plus progress, log, elicit, sample
export default async function greet(args: { name: string }, context: { requestId?: string }) {
  console.log("greeting", args.name);
  return { greeting: \`Hello, \${args.name}!\`, requestId: context.requestId };
}
`,
    "resources/getting-started.md": `# Getting started

This resource is served as resource://getting-started. Edit it and connected clients are told.
`,
    "prompts/summarize.md": `---
description: Summarize a text
arguments:
  - name: text
    description: The text to summarize
    required: true
---
Summarize the following text in three sentences:

{{text}}
`,
    "context.ts": `// Its result is the second argument of every tool. req: { method, url, headers } (header names lower-cased).
export default function createContext(req: { headers: Record<string, string | undefined> }) {
  return {
    requestId: req.headers["x-request-id"],
    userId: req.headers["x-user-id"],
  };
}
`,
    "README.md": `# ${name}

An MCP server served by dzx. Run it with \`dzx dev .\` (from the dzx checkout: \`bun run dzx dev <this folder>\`);
it listens on http://127.0.0.1:3333/mcp/${name} and reloads when files change. Deploy it to a dzx platform
with \`dzx deploy . --server ${name}\`.
`,
  };
}

/** Writes the starter folder; returns what to print. */
export function initCommand(dirArg: string | undefined): string {
  if (!dirArg) throw new CliError("Usage: dzx init <dir>");
  const dir = resolve(dirArg);
  const files = starterFiles(nameOf(dirArg));
  const present = Object.keys(files).filter((f) => existsSync(join(dir, f)));
  if (present.length) throw new CliError(`dzx init: ${dir} already has ${present.join(", ")}; nothing was written (init never overwrites files)`);
  for (const [rel, text] of Object.entries(files)) {
    const path = join(dir, rel);
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, text, { flag: "wx" });
  }
  return [`Wrote a starter MCP server in ${dir}:`, ...Object.keys(files).map((f) => `  ${f}`), "", `Serve it: dzx dev ${dirArg}`].join("\n");
}
