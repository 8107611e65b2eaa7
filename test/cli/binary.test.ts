/**
 * The compiled binary (issue 15.3, 15.4): built by exactly the command the
 * Dockerfile's build stage runs, then copied alone into a directory with no
 * node_modules anywhere above it, where it runs every command on a new embedded
 * database and on PostgreSQL — a hosted tool call through the official SDK
 * client proves the sandbox's QuickJS wasm and the worker entries are inside it.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { managementClient, op } from "../support/client.ts";
import { freshDatabase, type TestDatabase } from "../support/database.ts";
import { collectOutput, runCli, startDzx, type DzxCommand, type TestKey } from "../support/dzx.ts";
import { freePort } from "../support/port.ts";
import { readmeBlocks } from "../support/readme.ts";
import { createServer, hostedClient } from "../hosted/support.ts";
import { version } from "../../package.json" with { type: "json" };

// per file: bun applies the preload's default to the first file only; the build and two database starts take a while
setDefaultTimeout(180_000);

const ROOT = join(import.meta.dir, "..", "..");
const DOCKERFILE = await Bun.file(join(ROOT, "Dockerfile")).text();
const STACK = /^\s+at\s/m;

/** The Dockerfile's instructions, continuation lines joined, comments dropped, split into stages. */
function dockerStages(text: string): { name?: string; from: string; lines: string[] }[] {
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const stages: { name?: string; from: string; lines: string[] }[] = [];
  for (const line of lines) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?$/i.exec(line);
    if (from) stages.push({ from: from[1], name: from[2], lines: [] });
    else stages.at(-1)!.lines.push(line);
  }
  return stages;
}

const stages = dockerStages(DOCKERFILE);
const buildStage = stages[0];
const finalStage = stages.at(-1)!;
/** The build stage's `RUN … bun run build` — what the image builds. */
const buildCommand = buildStage.lines.find((l) => /^RUN\s.*\bbun run build\b/.test(l))?.replace(/^RUN\s+/, "");
/** What the final stage copies out of the build stage: the path in the build stage's WORKDIR, and where it lands. */
const copied = /^COPY\s+--from=(\S+)\s+(\S+)\s+(\S+)$/.exec(finalStage.lines.find((l) => l.startsWith("COPY")) ?? "");
const workdir = buildStage.lines.find((l) => l.startsWith("WORKDIR"))?.split(/\s+/)[1] ?? "/";

let dir = "";
let binary: DzxCommand;
/** An embedded database in the binary's own directory (its default ./data), made by the binary itself. */
const embedded: TestDatabase = { env: {}, dataDir: "", drop: async () => {} };
/** Without DATABASE_URL, whatever the suite runs on, and in the default ./data (an empty value is unset). */
const NO_POSTGRES = { DATABASE_URL: "", DZX_DATA_DIR: "" };

beforeAll(async () => {
  if (!buildCommand || !copied) throw new Error("the Dockerfile has no `RUN bun run build` in its first stage or no COPY --from in its last");
  // what `docker build` runs in its build stage, here in the checkout
  const build = Bun.spawn(["sh", "-c", buildCommand], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(build.stdout).text(), new Response(build.stderr).text(), build.exited]);
  if (code !== 0) throw new Error(`${buildCommand} failed (${code}):\n${out}\n${err}`);
  dir = mkdtempSync(join(tmpdir(), "dzx-binary-"));
  copyFileSync(join(ROOT, copied[2].replace(`${workdir.replace(/\/$/, "")}/`, "")), join(dir, "dzx"));
  binary = { argv: [join(dir, "dzx")], cwd: dir };
  embedded.dataDir = join(dir, "data");
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs the binary in its directory without DATABASE_URL unless `db` brings one. */
function dzx(args: string[], db: TestDatabase = embedded, env: Record<string, string> = {}) {
  return runCli(db, args, { ...(db === embedded ? NO_POSTGRES : {}), ...env }, binary);
}

test("dzx --version from source prints dzx and the package.json version", async () => {
  const proc = Bun.spawn(["bun", join(ROOT, "src", "main.ts"), "--version"], { stdout: "pipe", stderr: "pipe" });
  expect(await new Response(proc.stdout).text()).toBe(`dzx ${version}\n`);
  expect(await proc.exited).toBe(0);
});

test("the binary sits alone in a directory with no node_modules in it or above it", () => {
  for (let d = dir; d !== dirname(d); d = dirname(d)) expect(existsSync(join(d, "node_modules"))).toBe(false);
  expect(existsSync(join(dir, "dzx"))).toBe(true);
});

test("the binary prints its version (--version and version) and help", async () => {
  for (const args of [["--version"], ["version"]]) {
    const r = await dzx(args);
    expect(r).toMatchObject({ code: 0, stdout: `dzx ${version}\n` });
  }
  const help = await dzx(["help"]);
  expect(help.code).toBe(0);
  for (const command of ["dzx start", "dzx keys create", "dzx orgs list", "dzx migrate", "dzx health", "dzx version"]) expect(help.stdout).toContain(command);
});

test("the binary runs dzx init and dzx dev: the starter folder's tool is served (the dev loader's worker is embedded too)", async () => {
  const init = await dzx(["init", join(dir, "hello")]);
  expect(init.code).toBe(0);
  const proc = Bun.spawn(binary.argv.concat(["dev", join(dir, "hello")]), { cwd: dir, env: { ...process.env, PORT: "0", DZX_HOST: "127.0.0.1" }, stdout: "pipe", stderr: "pipe" });
  const output = collectOutput(proc);
  try {
    let m: RegExpExecArray | null = null;
    const deadline = Date.now() + 30_000;
    while (!(m = /dzx dev listening on (\S+)/.exec(output.text()))) {
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`dzx dev did not start:\n${output.text()}`);
      await Bun.sleep(20);
    }
    const res = await fetch(m[1], {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "greet", arguments: { name: "binary" } } }),
    });
    expect(((await res.json()) as any).result.structuredContent).toMatchObject({ greeting: "Hello, binary!" });
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
});

describe("on a new embedded database (PGlite's wasm and data from the binary)", () => {
  let key: TestKey;

  test("migrate creates it, orgs create and keys create --json work with no server running", async () => {
    const migrated = await dzx(["migrate"]);
    expect(migrated).toMatchObject({ code: 0, stdout: "Migrations applied.\n" });
    expect(existsSync(join(dir, "data", "pg"))).toBe(true);
    const org = await dzx(["orgs", "create", "acme"]);
    expect(org.code).toBe(0);
    expect(org.stdout).toMatch(/^Created: acme \(/);
    const made = await dzx(["keys", "create", "--org", "acme", "--scopes", "all", "--json"]);
    expect(made.code).toBe(0);
    key = JSON.parse(made.stdout);
    expect(key.key).toStartWith("dwz_live_");
    const orgs = await dzx(["orgs", "list", "--json"]);
    expect(JSON.parse(orgs.stdout).map((o: { name: string }) => o.name)).toContain("acme");
  });

  test("start serves: a tool created through /mcp/dwizi runs on a hosted server called with the SDK client; health is 0 against it, 1 on a closed port", async () => {
    expect(key).toBeDefined();
    await hostedCallWorks(embedded, key, NO_POSTGRES);
  });
});

describe("on PostgreSQL (DATABASE_URL: the migrations from the binary)", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDatabase({ postgres: true });
  });
  afterAll(async () => {
    await db?.drop();
  });

  test("migrate, orgs, keys and start work: the hosted tool call and health too", async () => {
    expect(await dzx(["migrate"], db)).toMatchObject({ code: 0, stdout: "Migrations applied.\n" });
    expect((await dzx(["orgs", "create", "acme"], db)).code).toBe(0);
    const made = await dzx(["keys", "create", "--org", "acme", "--scopes", "all", "--json"], db);
    expect(made.code).toBe(0);
    await hostedCallWorks(db, JSON.parse(made.stdout), {});
  });
});

/** Starts the binary on `db`, creates a TypeScript tool and a server with the key, calls the tool with the SDK client, checks `dzx health`, stops it. */
async function hostedCallWorks(db: TestDatabase, key: TestKey, env: Record<string, string>): Promise<void> {
  const server = await startDzx({ db, env, command: binary });
  try {
    expect(server.output()).toContain(`"database":"${db === embedded ? "pglite" : "postgres"}"`);
    const admin = await managementClient(server.url, key.key);
    await op(admin, "dwizi.tools.create", {
      tool: {
        name: "Add",
        slug: "add",
        language: "ts",
        inputSchema: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } }, required: ["a", "b"] },
        source: "export default async (input: { a: number; b: number }) => ({ sum: input.a + input.b })",
      },
    });
    const hosted = await createServer(admin, { name: "Binary Math", toolIds: ["add"] });
    await admin.close();
    const client = await hostedClient(hosted.endpoint, hosted.token);
    const called = await client.callTool({ name: "add", arguments: { a: 2, b: 40 } });
    await client.close();
    expect(called.isError).toBeFalsy();
    expect(called.structuredContent).toEqual({ sum: 42 });

    const port = new URL(server.url).port;
    const healthy = await dzx(["health"], db, { ...env, PORT: port, DZX_HOST: "127.0.0.1" });
    expect(healthy.code).toBe(0);
    expect(healthy.stdout).toBe(`dzx is ready at http://127.0.0.1:${port}/ready (database: ${db === embedded ? "pglite" : "postgres"})\n`);
    const closed = freePort();
    const down = await dzx(["health"], db, { ...env, PORT: String(closed), DZX_HOST: "127.0.0.1" });
    expect(down.code).toBe(1);
    expect(down.stderr).toBe(`dzx is not reachable at http://127.0.0.1:${closed}/ready: connection refused (is dzx running?)\n`);
  } finally {
    await server.stop();
  }
  expect(await server.exited).toBe(0);
  expect(server.output()).not.toMatch(STACK);
}

describe("the Dockerfile", () => {
  test("builds the binary in a build stage with exactly `bun run build` and copies it alone onto a slim base", () => {
    expect(stages.length).toBe(2);
    expect(buildStage.name).toBeDefined();
    expect(buildCommand).toBe("bun run build");
    expect(buildStage.lines).toContain("RUN npm ci");
    // the final stage: a slim base, one COPY — the binary that `bun run build` wrote, from the build stage
    expect(finalStage.from).toMatch(/^(debian:[\w.-]+-slim|gcr\.io\/distroless\/cc[\w.:-]*)$/);
    expect(finalStage.lines.filter((l) => /^(COPY|ADD)\s/.test(l))).toEqual([`COPY --from=${buildStage.name} ${join(workdir, "dist", "dzx")} /usr/local/bin/dzx`]);
    // nothing else of the build comes along: no Bun, Node or npm runs in the image
    expect(finalStage.lines.join("\n")).not.toMatch(/\b(bun|node|npm|npx)\b/);
  });

  test("runs as a non-root user with the /data volume, DZX_HOST=0.0.0.0, port 3333, SIGTERM, dzx health and dzx start", () => {
    const lines = finalStage.lines;
    const user = lines.find((l) => l.startsWith("USER "))?.split(/\s+/)[1];
    expect(user).toBeDefined();
    expect(["root", "0"]).not.toContain(user!);
    const env = lines.filter((l) => l.startsWith("ENV ")).join(" ");
    expect(env).toContain("DZX_DATA_DIR=/data");
    expect(env).toContain("DZX_HOST=0.0.0.0");
    expect(lines).toContain("VOLUME /data");
    expect(lines).toContain("EXPOSE 3333");
    expect(lines).toContain("STOPSIGNAL SIGTERM");
    expect(lines.find((l) => l.startsWith("HEALTHCHECK"))).toMatch(/\sCMD \["\/usr\/local\/bin\/dzx", "health"\]$/);
    expect(lines).toContain('ENTRYPOINT ["/usr/local/bin/dzx"]');
    expect(lines).toContain('CMD ["start"]');
    // the user must own /data, or the embedded database cannot be created in the volume
    expect(lines.find((l) => l.startsWith("RUN ") && l.includes("chown"))).toContain(`chown ${user}`);
  });

  test("the README shows the build, a run with the volume and one with DATABASE_URL", async () => {
    const shown = (await readmeBlocks("Binary and Docker", "sh")).join("\n");
    expect(shown).toContain("bun run build");
    expect(shown).toContain("docker build -t dzx .");
    expect(shown).toMatch(/docker run .*-v dzx-data:\/data -p 3333:3333 dzx/);
    expect(shown).toMatch(/docker run .*-e DATABASE_URL=postgres:\/\/\S+ .*dzx/);
  });
});
