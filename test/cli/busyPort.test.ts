/**
 * A second dzx on a busy port refuses to start (issue 15.1): Bun.serve given
 * method routes binds with SO_REUSEPORT unless told not to, and a second dzx
 * with another data directory then took half of the first one's connections.
 */
import type { Subprocess } from "bun";
import { expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rest } from "../support/client.ts";
import { collectOutput, startWithKeys } from "../support/dzx.ts";
import { freePort } from "../support/port.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

const MAIN = join(import.meta.dir, "..", "..", "src", "main.ts");
const STACK = /^\s+at\s/m;

test("a second dzx on the port of a running one exits non-zero naming host and port, touches nothing, and the first keeps every request", async () => {
  const port = freePort();
  const { dzx, keys } = await startWithKeys({ admin: ["acme"] }, { PORT: String(port) });
  // the second one's own, empty data directory (embedded database): it must stay empty
  const dataDir = mkdtempSync(join(tmpdir(), "dzx-busy-"));
  let second: Subprocess<"ignore", "pipe", "pipe"> | undefined;
  try {
    expect(dzx.url).toBe(`http://127.0.0.1:${port}`);
    const { DATABASE_URL: _, ...env } = process.env;
    second = Bun.spawn(["bun", MAIN, "start"], {
      env: { ...env, DZX_DATA_DIR: dataDir, PORT: String(port), DZX_HOST: "127.0.0.1", DZX_LOG_LEVEL: "debug" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const output = collectOutput(second);
    // a second dzx that did start (it says so) would serve on: the requests below then meet it too
    const listening = (async () => {
      while (!output.text().includes("dzx listening") && second!.exitCode === null) await Bun.sleep(20);
    })();
    await Promise.race([second.exited, listening]);
    // every request reaches the first dzx, which knows the key (the second one's database would answer 401);
    // a fresh connection each, as the kernel spreads connections, not requests
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await rest(dzx.url, keys.admin.key, "GET", "/org", undefined, { connection: "close" })).status);
    if (second.exitCode === null) second.kill("SIGKILL");
    const code = await second.exited;
    await output.done;
    const out = output.text();
    expect(statuses).toEqual(Array(20).fill(200));
    expect({ code, signal: second.signalCode }).toEqual({ code: 2, signal: null });
    expect(out).toContain(`dzx: Cannot listen on 127.0.0.1:${port}: the port is already in use`);
    expect(out).not.toMatch(STACK);
    expect(out).not.toContain("dzx listening");
    // nothing else started: no embedded database, lock or secret key written
    expect(readdirSync(dataDir)).toEqual([]);
  } finally {
    if (second?.exitCode === null) second.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
    await dzx.dispose();
  }
});
