/**
 * Runs the official MCP conformance suite (@modelcontextprotocol/conformance,
 * server scenarios) against each face of dzx:
 * - `platform`: a hosted server whose fixtures are created through /mcp/dwizi only;
 * - `dev`: `dzx dev test/fixtures/conformance` (the same fixtures as a dev folder);
 * - `deployed`: a hosted server made from that folder by `dzx deploy` (twice: the
 *   second must change nothing).
 * `bun test/conformance/run.ts [--face platform|dev|deployed] [scenario]` (default: every face)
 * prints each scenario's verdict and a summary per face; exits non-zero unless every
 * active scenario passes. The pending scenarios run too; their result is printed, not enforced.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { managementClient } from "../support/client.ts";
import { freshDatabase } from "../support/database.ts";
import { cliKey, runCli, startDzx, type Dzx } from "../support/dzx.ts";
import { startDev } from "../dev/support.ts";
import { startAuthProxy } from "./authProxy.ts";
import { createFixtures } from "./fixtures.ts";

const ROOT = resolve(import.meta.dir, "../..");
const SUITE = join(ROOT, "node_modules/@modelcontextprotocol/conformance/dist/index.js");

interface Check {
  id: string;
  status: string;
  errorMessage?: string;
}

/** Runs one suite ("active" or "pending"); returns each scenario's checks. */
async function runSuite(url: string, suite: string, only?: string): Promise<Map<string, Check[]>> {
  const cwd = mkdtempSync(join(tmpdir(), `dzx-conformance-${suite}-`));
  const dir = join(cwd, "results");
  const args = ["bun", SUITE, "server", "--url", url, "--output-dir", dir, ...(only ? ["--scenario", only] : ["--suite", suite])];
  const proc = Bun.spawn(args, { cwd, stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  if (process.env.CONFORMANCE_VERBOSE) console.log(out, err);
  const results = new Map<string, Check[]>();
  if (!existsSync(dir)) throw new Error(`the suite wrote no results (exit ${proc.exitCode}):\n${out}\n${err}`);
  for (const entry of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    // results/server-<scenario>-<timestamp>/checks.json
    const scenario = entry.name.replace(/^server-/, "").replace(/-\d{4}-\d{2}-\d{2}T.*$/, "");
    results.set(scenario, JSON.parse(readFileSync(join(dir, entry.name, "checks.json"), "utf8")));
  }
  rmSync(cwd, { recursive: true, force: true });
  return results;
}

/** A scenario passes when none of its checks is a FAILURE (WARNING and INFO are not failures). */
function verdict(checks: Check[]): { ok: boolean; failures: string[] } {
  const failures = checks.filter((c) => c.status === "FAILURE").map((c) => `${c.id}: ${c.errorMessage ?? "failed"}`);
  return { ok: checks.length > 0 && failures.length === 0, failures };
}

/** A face under test: its MCP endpoint, and how to stop it. `refused` lists fixtures it would not take. */
interface Face {
  endpoint: string;
  refused: string[];
  stop(): Promise<void>;
}

const FOLDER = join(ROOT, "test/fixtures/conformance");

/** A fresh platform with a key of org "conformance" whose caps hold every fixture. */
async function platform() {
  const db = await freshDatabase();
  const key = await cliKey(db, "conformance");
  const limits = await runCli(db, ["orgs", "limits", "--org", "conformance", "--set", JSON.stringify({ caps: { tools: 100, resources: 100, prompts: 100 } })]);
  if (limits.code !== 0) throw new Error(`orgs limits failed: ${limits.stderr}`);
  const dzx = await startDzx({ db, env: { DZX_WORKERS: "2" } });
  return { dzx, key };
}

/** A platform's hosted server behind a proxy that adds its token (the suite sends none); stopping it stops the platform. */
function proxied(dzx: Dzx, token: string, endpoint: string, refused: string[]): Face {
  const proxy = startAuthProxy(dzx.url, token);
  return {
    endpoint: `${proxy.url}${new URL(endpoint).pathname}`,
    refused,
    stop: async () => {
      proxy.stop();
      await dzx.dispose();
    },
  };
}

/** The platform: fixtures made through /mcp/dwizi, a hosted server behind a proxy that adds its token. */
async function platformFace(): Promise<Face> {
  const { dzx, key } = await platform();
  try {
    const admin = await managementClient(dzx.url, key.key);
    const fixtures = await createFixtures(admin);
    await admin.close();
    return proxied(dzx, fixtures.token, fixtures.endpoint, fixtures.refused);
  } catch (e) {
    await dzx.dispose();
    throw e;
  }
}

/** `dzx dev` of the fixture folder. */
async function devFace(): Promise<Face> {
  const dev = await startDev(FOLDER, { DZX_WORKERS: "2" });
  const broken = (await (await fetch(`${dev.url}/status`)).json()) as { brokenFiles: { file: string; message: string }[] };
  return { endpoint: dev.endpoint, refused: broken.brokenFiles.map((b) => `${b.file}: ${b.message}`), stop: async () => void (await dev.stop()) };
}

/** `dzx deploy` of the fixture folder to a fresh platform; a second deploy must change nothing. */
async function deployedFace(): Promise<Face> {
  const { dzx, key } = await platform();
  try {
    const deploy = () => runCli(dzx.db, ["deploy", FOLDER, "--server", "conformance", "--url", dzx.url, "--key", key.key], { DZX_API_KEY: "" });
    const first = await deploy();
    if (first.code !== 0) throw new Error(`dzx deploy failed (${first.code}):\n${first.stdout}${first.stderr}`);
    const out = first.stdout + first.stderr;
    const token = /\bmcp_[A-Za-z0-9_-]+/.exec(out)?.[0];
    const endpoint = /https?:\/\/\S+\/mcp\/srv_[a-z0-9]+/.exec(out)?.[0];
    if (!token || !endpoint) throw new Error(`dzx deploy printed no token or endpoint:\n${out}`);
    const second = await deploy();
    const again = second.stdout + second.stderr;
    const refused = second.code === 0 && again.includes("No changes") ? [] : [`a second dzx deploy changed something (exit ${second.code}):\n${again}`];
    console.log(`dzx deploy, second run: ${again.split("\n").find((l) => l.includes("No changes")) ?? "(changed something)"}`);
    return proxied(dzx, token, endpoint, refused);
  } catch (e) {
    await dzx.dispose();
    throw e;
  }
}

const FACES: Record<string, () => Promise<Face>> = { platform: platformFace, dev: devFace, deployed: deployedFace };

const argv = process.argv.slice(2);
const faceAt = argv.indexOf("--face");
const faces = faceAt >= 0 ? [argv[faceAt + 1]] : Object.keys(FACES);
if (faces.some((f) => !FACES[f])) {
  console.error(`--face must be one of ${Object.keys(FACES).join(", ")}`);
  process.exit(2);
}
const only = argv.filter((_, i) => faceAt < 0 || (i !== faceAt && i !== faceAt + 1))[0];
const summary: string[] = [];
let status = 0;
for (const name of faces) {
  const face = await FACES[name]();
  try {
    for (const r of face.refused) console.log(`fixture refused (${name}): ${r}`);
    let activeFailed = 0;
    for (const suite of only ? ["active"] : ["active", "pending"]) {
      const results = await runSuite(face.endpoint, suite, only);
      let passed = 0;
      for (const [scenario, checks] of [...results].sort(([a], [b]) => a.localeCompare(b))) {
        const v = verdict(checks);
        if (v.ok) passed++;
        console.log(`${v.ok ? "PASS" : "FAIL"} [${name} ${suite}] ${scenario}${v.ok ? "" : `\n    ${v.failures.join("\n    ")}`}`);
      }
      if (suite === "active") activeFailed = results.size - passed;
      // the platform's lines keep their old form (CI greps "conformance active:")
      summary.push(`conformance ${name === "platform" ? "" : `${name} `}${suite}: ${passed}/${results.size} scenarios passed`);
    }
    if (activeFailed > 0 || face.refused.length > 0) status = 1;
  } finally {
    await face.stop();
  }
}
for (const line of summary) console.log(line);
process.exit(status);
