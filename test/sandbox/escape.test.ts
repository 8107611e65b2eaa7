/**
 * Sandbox escape suite, part 1: ambient host access, module loading, state that
 * must not survive a call, and secrets. Every hostile tool is created through
 * the management API and run with dwizi.tools.test against a real dzx, while a
 * well-behaved tool runs beside it; afterwards the next call and /health are checked.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { op, opError } from "../support/client.ts";
import { expectToolError, startLab, type Bench, type Lab } from "./harness.ts";

setDefaultTimeout(60_000);

let lab: Lab<"acme">;
let acme: Bench;

beforeAll(async () => {
  lab = await startLab({ acme: { org: "acme" } });
  acme = lab.benches.acme;
}, 60_000);
afterAll(async () => {
  await lab?.close();
});

describe("no ambient access to the host", () => {
  test("process is not defined, in any spelling", async () => {
    const r = await acme.contained(
      "read-process",
      `export default async () => ({
        typeofProcess: typeof process,
        onGlobal: "process" in globalThis,
        viaThis: typeof Function("return this")().process,
        thrown: (() => { try { process.env; return "reached env" } catch (e) { return e.name } })(),
      })`,
    );
    expect(r.isError).toBe(false);
    expect(r.output).toEqual({ typeofProcess: "undefined", onGlobal: false, viaThis: "undefined", thrown: "ReferenceError" });
  });

  test("Bun is not defined", async () => {
    const r = await acme.contained(
      "read-bun",
      `export default async () => {
        try { return { spawned: Bun.spawnSync(["id"]).stdout.toString() } } catch (e) { return { name: e.name, typeofBun: typeof Bun, onGlobal: "Bun" in globalThis } }
      }`,
    );
    expect(r.output).toEqual({ name: "ReferenceError", typeofBun: "undefined", onGlobal: false });
  });

  test("require, module, exports, __dirname and Deno are not defined", async () => {
    const r = await acme.contained(
      "read-require",
      `export default async () => ({
        require: typeof require, module: typeof module, exports: typeof exports, dirname: typeof __dirname,
        filename: typeof __filename, deno: typeof Deno, importScripts: typeof importScripts, std: typeof std, os: typeof os,
        callRequire: (() => { try { return require("fs").readFileSync("/etc/passwd", "utf8") } catch (e) { return e.name } })(),
      })`,
    );
    expect(r.output).toEqual({
      require: "undefined", module: "undefined", exports: "undefined", dirname: "undefined", filename: "undefined",
      deno: "undefined", importScripts: "undefined", std: "undefined", os: "undefined", callRequire: "ReferenceError",
    });
  });

  test("the global object holds only language builtins and the bridge", async () => {
    const r = await acme.contained("list-globals", "export default async () => Object.getOwnPropertyNames(Function('return this')())");
    const names = r.output as string[];
    expect(names).toContain("Object");
    expect(names).toContain("console");
    for (const forbidden of ["process", "Bun", "require", "Deno", "std", "os", "host", "Worker", "WebAssembly", "Atomics", "importScripts", "gc", "setInterval", "navigator", "Buffer", "global"]) {
      expect(names).not.toContain(forbidden);
    }
  });

  test("eval and indirect eval reach nothing of the host", async () => {
    const r = await acme.contained(
      "eval-tricks",
      `export default async () => ({
        direct: (() => { try { return eval("process.pid") } catch (e) { return e.name } })(),
        indirect: typeof (0, eval)("this").process,
        sloppyThis: typeof (0, eval)("(function () { return this })()").Bun,
      })`,
    );
    expect(r.output).toEqual({ direct: "ReferenceError", indirect: "undefined", sloppyThis: "undefined" });
  });

  test("constructor chains (Function, AsyncFunction, GeneratorFunction) yield the sandbox global only", async () => {
    const r = await acme.contained(
      "ctor-chains",
      `export default async () => {
        const viaFn = Function("return this")();
        const viaAsync = await (async () => {}).constructor("return this")();
        const viaGen = (function* () {}).constructor("yield this")().next().value;
        const viaConsole = console.log.constructor("return this")();
        return {
          same: viaFn === globalThis && viaAsync === globalThis && viaGen === globalThis && viaConsole === globalThis,
          process: [viaFn, viaAsync, viaGen, viaConsole].map((g) => typeof g.process),
        };
      }`,
    );
    expect(r.output).toEqual({ same: true, process: ["undefined", "undefined", "undefined", "undefined"] });
  });

  test("error stacks do not disclose host paths", async () => {
    const r = await acme.contained(
      "stack-peek",
      `export default async () => { try { null.x } catch (e) { return String(e.stack) + new Error("probe").stack } }`,
    );
    const stack = r.output as string;
    expect(stack).toContain("tool.js");
    expect(stack).not.toMatch(/\/work\/|node_modules|\.ts:|quickjsHost|worker\.ts/);
  });

  test("SharedArrayBuffer exists but Atomics does not, so Atomics.wait cannot hang a worker", async () => {
    const r = await acme.contained(
      "atomics-wait",
      "export default async () => { const i32 = new Int32Array(new SharedArrayBuffer(16)); Atomics.wait(i32, 0, 0); return 'woke' }",
    );
    expectToolError(r, /Atomics/);
    expect(r.error?.limit).toBeUndefined();
  });

  test("WebAssembly is unavailable", async () => {
    const r = await acme.contained(
      "wasm",
      `export default async () => {
        const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
        return { typeofWasm: typeof WebAssembly, compiled: (() => { try { new WebAssembly.Module(bytes); return true } catch (e) { return e.name } })() };
      }`,
    );
    expect(r.output).toEqual({ typeofWasm: "undefined", compiled: "ReferenceError" });
  });

  test("new Worker cannot start a thread", async () => {
    const r = await acme.contained("new-worker", "export default async () => { new Worker('data:text/javascript,postMessage(1)'); return 'started' }");
    expectToolError(r, /Worker/);
  });

  test("setInterval is absent; setTimeout is the bridge's", async () => {
    const r = await acme.contained(
      "interval",
      `export default async () => {
        const viaTimeout = await new Promise((resolve) => setTimeout(() => resolve("fired"), 5));
        return { setInterval: typeof setInterval, setImmediate: typeof setImmediate, viaTimeout };
      }`,
    );
    expect(r.output).toEqual({ setInterval: "undefined", setImmediate: "undefined", viaTimeout: "fired" });
  });
});

describe("module loading", () => {
  test("a static import of a node module is refused at create, and nothing is written", async () => {
    const e = await opError(acme.client, "dwizi.tools.create", { tool: { name: "static-fs", slug: "static-fs", source: "import fs from 'node:fs';\nexport default async () => fs.readFileSync('/etc/passwd', 'utf8')" } });
    expect(e.code).toBe("VALIDATION_ERROR");
    expect(e.message).toContain("node:fs");
    const got = await opError(acme.client, "dwizi.tools.get", { slug: "static-fs" });
    expect(got.code).toBe("NOT_FOUND");
    await acme.expectBenign();
    await acme.expectHealthy();
  });

  test("static imports of bun, bun:ffi and a relative file are refused at create", async () => {
    for (const [slug, spec] of [["static-bun", "bun"], ["static-ffi", "bun:ffi"], ["static-child", "child_process"], ["static-rel", "./secrets.js"]]) {
      const e = await opError(acme.client, "dwizi.tools.create", { tool: { name: slug, slug, source: `import * as m from ${JSON.stringify(spec)};\nexport default async () => Object.keys(m)` } });
      expect(e.code).toBe("VALIDATION_ERROR");
      expect(e.message).toContain(`could not load module '${spec.replace(/^\.\//, "")}'`);
    }
    await acme.expectBenign();
  });

  test("a re-export from a node module is refused at create", async () => {
    const e = await opError(acme.client, "dwizi.tools.create", { tool: { name: "reexport", slug: "reexport", source: "export { spawn } from 'node:child_process';\nexport default async () => 1" } });
    expect(e.code).toBe("VALIDATION_ERROR");
  });

  test("dynamic import() of node and bun modules fails at run", async () => {
    const r = await acme.contained(
      "dyn-import",
      `export default async () => {
        const out = {};
        for (const spec of ["node:fs", "fs", "node:child_process", "bun", "bun:ffi", "bun:sqlite", "os", "std", "./other.js", "/etc/passwd", "https://example.com/x.js"]) {
          try { const m = await import(spec); out[spec] = "LOADED " + Object.keys(m).join(",") } catch (e) { out[spec] = e.name }
        }
        return out;
      }`,
    );
    const out = r.output as Record<string, string>;
    expect(Object.keys(out)).toHaveLength(11);
    for (const [spec, what] of Object.entries(out)) expect({ spec, what }).toEqual({ spec, what: expect.not.stringContaining("LOADED") });
  });

  test("an uncaught dynamic import fails the call with a clear message", async () => {
    const r = await acme.contained("dyn-import-uncaught", "export default async () => { const cp = await import('node:child_process'); return cp.execSync('id').toString() }");
    expectToolError(r, /could not load module 'node:child_process'/);
  });

  test("import.meta carries nothing of the host", async () => {
    const r = await acme.contained("import-meta", "export default async () => ({ keys: Object.keys(import.meta), text: JSON.stringify(import.meta) })");
    expect(r.output).toEqual({ keys: [], text: "{}" });
  });
});

describe("nothing survives a call", () => {
  test("a global set in one call is not visible in the next", async () => {
    await acme.create(
      "set-global",
      "export default async () => { const before = globalThis.__marker ?? null; globalThis.__marker = 'left behind'; globalThis.leak = () => 'x'; return { before } }",
    );
    for (let i = 0; i < 4; i++) expect((await acme.run("set-global")).output).toEqual({ before: null });
    await acme.expectBenign(); // reads globalThis.__marker too
    await acme.expectHealthy();
  });

  test("module-level state does not persist between calls of the same tool version", async () => {
    await acme.create("counter", "let calls = 0;\nexport default async () => ++calls");
    for (let i = 0; i < 4; i++) expect((await acme.run("counter")).output).toBe(1);
  });

  test("prototype pollution of builtins is not visible to a later call", async () => {
    const r = await acme.contained(
      "pollute",
      `export default async () => {
        Object.prototype.polluted = "yes";
        Array.prototype.polluted = "yes";
        Array.prototype.push = function () { return -1 };
        String.prototype.trim = function () { return "hijacked" };
        Object.defineProperty(Object.prototype, "then", { value: undefined, writable: true, configurable: true });
        return { seen: ({}).polluted, push: [].push(1), trim: " x ".trim() };
      }`,
    );
    expect(r.output).toEqual({ seen: "yes", push: -1, trim: "hijacked" });
    // the same worker's next calls (also the bystander) see pristine builtins
    await acme.create("check-protos", "export default async () => ({ polluted: ({}).polluted ?? null, push: [].push(1), trim: ' x '.trim() })");
    for (let i = 0; i < 3; i++) expect((await acme.run("check-protos")).output).toEqual({ polluted: null, push: 1, trim: "x" });
  });

  test("replacing JSON.stringify/JSON.parse cannot forge the result and does not outlive the call", async () => {
    const r = await acme.contained("forge-json", `export default async () => { JSON.stringify = () => '{"forged":true}'; JSON.parse = () => ({ forged: true }); return { real: 1 } }`);
    // either the runner kept its own JSON (the real result) or the call failed; never the forged value
    expect(JSON.stringify(r)).not.toContain("forged");
    if (!r.isError) expect(r.output).toEqual({ real: 1 });
  });

  test("replacing Promise globally does not break the runner or the next call", async () => {
    const r = await acme.contained(
      "replace-promise",
      "export default async () => { globalThis.Promise = function () { throw new Error('no promises') }; Promise.resolve = () => { throw new Error('nope') }; return 'still fine' }",
    );
    expect(r.output).toBe("still fine");
  });

  test("redefining console with a throwing getter only affects that call", async () => {
    const r = await acme.contained(
      "kill-console",
      `export default async () => {
        console.log("before");
        Object.defineProperty(globalThis, "console", { get() { throw new Error("console is gone") }, configurable: false });
        try { console.log("after") } catch (e) { return e.message }
      }`,
    );
    expect(r.output).toBe("console is gone");
    expect(r.logs).toEqual([{ level: "log", message: "before" }]);
    await acme.create("log-after", "export default async () => { console.log('still logging'); return 1 }");
    expect((await acme.run("log-after")).logs).toEqual([{ level: "log", message: "still logging" }]);
  });

  test("returning an object with a __proto__ key does not pollute the host", async () => {
    const r = await acme.contained(
      "proto-output",
      `export default async (input) => JSON.parse('{"__proto__": {"polluted": "host"}, "constructor": {"prototype": {"polluted": "host"}}, "echo": ' + JSON.stringify(input) + '}')`,
      { input: JSON.parse('{"__proto__": {"isAdmin": true}}') },
    );
    expect(r.isError).toBe(false);
    expect(({} as any).polluted).toBeUndefined();
    // the server's own objects were not polluted either: a plain REST read carries no such field
    const list = await acme.rest("GET", "/tools");
    expect(list.status).toBe(200);
    expect(list.text).not.toContain('"polluted"');
    expect(list.text).not.toContain("isAdmin");
    const org = await acme.rest("GET", "/org");
    expect(org.json.polluted).toBeUndefined();
    expect(org.json.org.polluted).toBeUndefined();
  });
});

describe("secrets", () => {
  const VALUE_A = "sk_live_A_9f8e7d6c5b4a";
  const VALUE_B = "sk_live_B_0a1b2c3d4e5f";

  beforeAll(async () => {
    await op(acme.client, "dwizi.secrets.set", { name: "S_A", value: VALUE_A });
    await op(acme.client, "dwizi.secrets.set", { name: "S_B", value: VALUE_B });
  }, 60_000);

  test("a tool sees only the secrets it declares", async () => {
    const probe = `export default async (input, context) => ({
      names: Object.keys(context.secrets),
      a: context.secrets.S_A ?? null,
      b: context.secrets.S_B ?? null,
      dump: JSON.stringify(context),
    })`;
    await acme.create("holder-a", probe, { secrets: ["S_A"] });
    const own = await acme.run("holder-a");
    expect(own.output).toMatchObject({ names: ["S_A"], a: VALUE_A, b: null }); // positive control

    const r = await acme.contained("thief-b", probe, { extra: { secrets: ["S_B"] } });
    expect(r.output).toMatchObject({ names: ["S_B"], a: null, b: VALUE_B });
    expect((r.output as any).dump).not.toContain(VALUE_A);

    const none = await acme.contained("thief-none", probe);
    expect(none.output).toMatchObject({ names: [], a: null, b: null });
    expect(JSON.stringify(none)).not.toContain(VALUE_A);
    expect(JSON.stringify(none)).not.toContain(VALUE_B);
  });

  test("a tool cannot find another tool's secret anywhere in its sandbox", async () => {
    const r = await acme.contained(
      "secret-hunter",
      `export default async (input, context) => {
        const seen = new Set();
        const hits = [];
        const walk = (v, path, depth) => {
          if (depth > 4 || v === null || (typeof v !== "object" && typeof v !== "function") || seen.has(v)) return;
          seen.add(v);
          for (const k of Reflect.ownKeys(v)) {
            let x;
            try { x = v[k] } catch { continue }
            if (typeof x === "string" && x.includes("sk_live_")) hits.push(path + "." + String(k));
            walk(x, path + "." + String(k), depth + 1);
          }
        };
        walk(globalThis, "globalThis", 0);
        walk(context, "context", 0);
        return { hits };
      }`,
    );
    expect(r.output).toEqual({ hits: [] });
  });

  test("console output and context.log redact the secret value", async () => {
    const r = await acme.contained(
      "leaky-logger",
      `export default async (input, context) => {
        const s = context.secrets.S_A;
        console.log("token=" + s);
        console.error(context.secrets);
        console.warn({ nested: { deep: [s] } });
        console.info("prefix", s, "suffix");
        context.log("debug", "via context.log " + s);
        return { length: s.length };
      }`,
      { extra: { secrets: ["S_A"] } },
    );
    expect(r.output).toEqual({ length: VALUE_A.length });
    expect(r.logs).toHaveLength(5);
    expect(JSON.stringify(r.logs)).not.toContain(VALUE_A);
    expect(JSON.stringify(r)).not.toContain(VALUE_A);
    for (const line of r.logs) expect(line.message).toContain("[secret]");
  });

  test("context and context.secrets are frozen; mutation attempts fail and do not persist", async () => {
    const r = await acme.contained(
      "mutate-secrets",
      `export default async (input, context) => {
        const tries = {};
        const attempt = (name, fn) => { try { fn(); tries[name] = "allowed" } catch (e) { tries[name] = e.name } };
        attempt("assign", () => { context.secrets.S_A = "changed" });
        attempt("add", () => { context.secrets.S_B = "stolen?" });
        attempt("delete", () => { delete context.secrets.S_A });
        attempt("define", () => Object.defineProperty(context.secrets, "S_A", { value: "x" }));
        attempt("replace", () => { context.secrets = { S_A: "mine" } });
        attempt("proto", () => Object.setPrototypeOf(context.secrets, { S_B: "inherited" }));
        return { tries, frozen: Object.isFrozen(context) && Object.isFrozen(context.secrets), still: context.secrets.S_A.length, b: context.secrets.S_B ?? null };
      }`,
      { extra: { secrets: ["S_A"] } },
    );
    expect(r.output).toEqual({
      tries: { assign: "TypeError", add: "TypeError", delete: "TypeError", define: "TypeError", replace: "TypeError", proto: "TypeError" },
      frozen: true,
      still: VALUE_A.length,
      b: null,
    });
    const again = await acme.run("mutate-secrets");
    expect((again.output as any).still).toBe(VALUE_A.length);
  });
});
