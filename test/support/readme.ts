/**
 * The README's fenced code blocks, read from the file itself, so tests can run
 * what a reader would copy.
 */
import { join } from "node:path";

const README = join(import.meta.dir, "..", "..", "README.md");

/** The bodies of the ```<lang> blocks in the `## <heading>` section, in order. */
export async function readmeBlocks(heading: string, lang: string): Promise<string[]> {
  const text = await Bun.file(README).text();
  const start = text.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no section "## ${heading}"`);
  const next = text.indexOf("\n## ", start + 1);
  const section = text.slice(start, next < 0 ? undefined : next);
  const fence = new RegExp("^```" + lang + "\\n([\\s\\S]*?)^```$", "gm");
  return [...section.matchAll(fence)].map((m) => m[1]);
}
