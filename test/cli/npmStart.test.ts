/**
 * Issue 15.2 on a machine with only Node.js and npm: `npm start` serves with the `bun` npm
 * package, the banner's `npm run dzx -- …` commands work while it runs, and SIGTERM or SIGINT
 * to npm (alone, or to its whole process group as Ctrl-C does) stops dzx itself: no bun
 * process left running, the port closed, a clean exit.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { freshDatabase, type TestDatabase } from "../support/database.ts";
import { collectOutput, nodeOnlyPath, waitForBannerKey } from "../support/dzx.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

const T = 120_000;
const ROOT = join(import.meta.dir, "..", "..");
const NODE_ONLY = nodeOnlyPath();

const databases: TestDatabase[] = [];
/** dzx processes these tests started: any a failed test left running is killed at the end. */
const started: number[] = [];
afterAll(async () => {
  for (const pid of started) if (running(pid)) process.kill(pid, "SIGKILL");
  await Promise.all(databases.map((db) => db.drop()));
});

/** The process's parent pid and state, from /proc (undefined once it is gone). */
function procStat(pid: number): { ppid: number; state: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { ppid: Number(ppid), state };
  } catch {
    return undefined;
  }
}

/** Whether a process is running (a zombie waiting to be reaped is not). */
const running = (pid: number) => {
  const s = procStat(pid);
  return s !== undefined && s.state !== "Z";
};

/** Every descendant of `root` whose command line runs dzx's main.ts (a shell running it included). */
function dzxDescendants(root: number): number[] {
  const pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number);
  const parent = new Map(pids.map((p) => [p, procStat(p)?.ppid ?? 0]));
  const descends = (p: number): boolean => {
    for (let up = parent.get(p); up; up = parent.get(up)) if (up === root) return true;
    return false;
  };
  return pids.filter((p) => {
    if (!descends(p)) return false;
    try {
      return readFileSync(`/proc/${p}/cmdline`, "utf8").includes("src/main.ts");
    } catch {
      return false;
    }
  });
}

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(25);
  }
}

/** Environment of a Node-only machine: PATH has node, npm and sh, and no bun. */
function nodeOnlyEnv(db: TestDatabase): Record<string, string> {
  return { ...(process.env as Record<string, string>), ...db.env, PATH: NODE_ONLY, PORT: "0", DZX_HOST: "127.0.0.1", DZX_ADMIN_KEY: "" };
}

/** `npm start` in its own process group (so a group signal reaches npm and its children only), once dzx listens. */
async function npmStart() {
  const db = await freshDatabase();
  databases.push(db);
  const npm = Bun.spawn([join(NODE_ONLY, "npm"), "start"], { cwd: ROOT, env: nodeOnlyEnv(db), stdout: "pipe", stderr: "pipe", detached: true });
  const output = collectOutput(npm);
  let url = "";
  await until("dzx listening", () => {
    if (npm.exitCode !== null) throw new Error(`npm start exited (${npm.exitCode}):\n${output.text()}`);
    url = /"msg":"dzx listening","url":"([^"]+)"/.exec(output.text())?.[1] ?? "";
    return Boolean(url);
  });
  // the dzx process itself is the one with no dzx child (above it there may be a `sh -c` running it)
  const found = dzxDescendants(npm.pid);
  const dzx = found.find((p) => !found.some((c) => procStat(c)?.ppid === p));
  if (!dzx) throw new Error(`no dzx process under npm (pid ${npm.pid})`);
  started.push(dzx);
  return { db, npm, url, dzx, output: output.text };
}

test("the test's PATH has node and npm but no bun", () => {
  expect(Bun.which("bun", { PATH: NODE_ONLY })).toBeNull();
  expect(Bun.which("node", { PATH: NODE_ONLY })).not.toBeNull();
  expect(Bun.which("npm", { PATH: NODE_ONLY })).not.toBeNull();
});

const STOPS: [string, "SIGTERM" | "SIGINT", "npm" | "group"][] = [
  ["SIGTERM to npm's pid", "SIGTERM", "npm"],
  ["SIGINT to npm's pid only", "SIGINT", "npm"],
  ["Ctrl-C (SIGINT to npm's whole process group)", "SIGINT", "group"],
  ["SIGTERM to npm's whole process group", "SIGTERM", "group"],
];

for (const [name, signal, target] of STOPS) {
  test(`${name} stops dzx itself: no bun process left, the port closed, a clean exit`, async () => {
    const s = await npmStart();
    expect((await fetch(`${s.url}/health`)).status).toBe(200);
    process.kill(target === "group" ? -s.npm.pid : s.npm.pid, signal);
    await until(`dzx (pid ${s.dzx}) to exit`, () => !running(s.dzx));
    const code = await s.npm.exited;
    expect(dzxDescendants(s.npm.pid)).toEqual([]);
    await expect(fetch(`${s.url}/health`)).rejects.toThrow();
    // one graceful shutdown, not a second signal's abrupt end (npm forwards the Ctrl-C its group also got)
    expect(s.output().split('"msg":"shutting down"').length - 1).toBe(1);
    expect(code).toBe(0);
  }, T);
}

test("while `npm start` runs, the banner's `npm run dzx -- …` commands and its curl work from a Node-only PATH", async () => {
  const s = await npmStart();
  try {
    const key = await waitForBannerKey(s.output);
    const commands = s.output().split("\n").filter((l) => l.startsWith("  npm run dzx -- ")).map((l) => l.trim());
    expect(commands.length).toBeGreaterThanOrEqual(2);
    for (const command of [...commands, "npm run dzx -- keys list --org default"]) {
      const proc = Bun.spawn(["/bin/sh", "-c", command], { cwd: ROOT, env: nodeOnlyEnv(s.db), stdout: "pipe", stderr: "pipe" });
      const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      expect({ command, code, stderr: stderr.replace(/^npm warn.*\n/gm, "") }).toEqual({ command, code: 0, stderr: "" });
      if (command.includes("keys list")) expect(stdout).toContain(key.slice(0, 13));
    }
    const curl = s.output().split("\n").find((l) => l.startsWith("  curl "))!.trim();
    const proc = Bun.spawn(["/bin/sh", "-c", `KEY=${key}; ${curl}`], { stdout: "pipe", stderr: "pipe" });
    const body = await new Response(proc.stdout).text();
    expect(await proc.exited).toBe(0);
    expect(body).toContain('"name":"default"');
  } finally {
    process.kill(s.npm.pid, "SIGTERM");
    await s.npm.exited;
  }
}, T);
