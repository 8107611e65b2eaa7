/**
 * Real headless Chromium (Debian's /usr/bin/chromium, installed by .ci/run) for
 * page tests: the DOM a page has once its scripts ran. The flags keep it off the
 * network this machine does not have (FIELD-NOTES: background networking and
 * component updates otherwise fail at every start).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const CANDIDATES = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].filter(Boolean) as string[];

/** The Chromium executable; throws (never skips) when there is none. */
export function chromiumPath(): string {
  const found = CANDIDATES.find((p) => Bun.file(p).size > 0);
  if (!found) throw new Error("Chromium is not installed (apt-get install -y chromium; .ci/run does it): page tests need a real browser");
  return found;
}

/** Loads `url` in headless Chromium and returns the serialized DOM after its scripts ran. */
export async function renderedDom(url: string): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), "dzx-chromium-"));
  try {
    const proc = Bun.spawn(
      [
        chromiumPath(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        `--user-data-dir=${profile}`,
        "--virtual-time-budget=3000",
        "--dump-dom",
        url,
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    const [dom, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0 || !dom.includes("<html")) throw new Error(`chromium exited ${code}:\n${err.slice(-2000)}`);
    return dom;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}
