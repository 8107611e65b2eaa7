/**
 * Sandbox escape suite, part 3: network egress. fetch must refuse loopback,
 * private, link-local and metadata addresses (by literal, by alternative
 * spellings, by a hostname resolving there, and on a redirect hop), and every
 * scheme but http/https — before any connection is made. Local servers in the
 * test process count the requests that reach them.
 *
 * Orgs: "acme" has the default policy; "netlab" may reach 127.0.0.1 (only that
 * literal host) through `egress.allowPrivateHosts`, set with the CLI before start.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Server } from "bun";
import { expectToolError, startLab, type Bench, type Lab } from "./harness.ts";

setDefaultTimeout(60_000);

let lab: Lab<"acme" | "netlab">;
let acme: Bench;
let netlab: Bench;
/** What the sandbox must never reach: counts every request. */
let target: Server<unknown>;
/** The allowed first hop for netlab: redirects elsewhere. */
let redirector: Server<unknown>;
const hits: string[] = [];

beforeAll(async () => {
  target = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      hits.push(new URL(req.url).pathname);
      return new Response("internal admin data", { headers: { "content-type": "text/plain" } });
    },
  });
  redirector = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      const to: Record<string, string> = {
        "/to-localhost": `http://localhost:${target.port}/via-localhost`,
        "/to-ip": `http://127.0.0.1:${target.port}/via-ip`,
        "/to-ipv6": `http://[::1]:${target.port}/via-ipv6`,
        "/to-metadata": "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "/to-private": "http://10.0.0.1/internal",
        "/to-file": "file:///etc/passwd",
        "/loop": "/loop",
      };
      if (path in to) return new Response(null, { status: 302, headers: { location: to[path] } });
      return new Response("first hop", { status: 200 });
    },
  });
  lab = await startLab({
    acme: { org: "acme" },
    netlab: { org: "netlab", limits: { egress: { allowPrivateHosts: ["127.0.0.1"] } } },
  });
  acme = lab.benches.acme;
  netlab = lab.benches.netlab;
}, 60_000);
afterAll(async () => {
  await lab?.close();
  target?.stop(true);
  redirector?.stop(true);
});
beforeEach(() => {
  hits.length = 0;
});

/** A tool that fetches the URL in its input and reports what happened. */
const FETCHER = `export default async (input) => {
  try {
    const res = await fetch(input.url, input.init);
    return { fetched: true, status: res.status, body: await res.text() };
  } catch (e) {
    return { fetched: false, name: e.name, message: e.message };
  }
}`;

let n = 0;
/** Creates a fetcher tool for one case and runs it with the URL (bystander alongside). */
async function fetchVia(bench: Bench, url: string, init?: Record<string, unknown>) {
  const r = await bench.contained(`fetch-${++n}`, FETCHER, { input: { url, ...(init ? { init } : {}) } });
  expect(r.isError).toBe(false);
  return r.output as { fetched: boolean; status?: number; body?: string; name?: string; message?: string };
}

/** Asserts the fetch was refused by policy and nothing reached the local servers. */
function refused(out: { fetched: boolean; message?: string }, why: RegExp = /fetch refused/) {
  expect(out.fetched).toBe(false);
  expect(out.message).toMatch(why);
  expect(hits).toEqual([]);
}

const PRIVATE = /loopback, private, link-local or reserved address/;

describe("addresses refused by default", () => {
  test("127.0.0.1 (a live local server) is refused before connecting", async () => {
    refused(await fetchVia(acme, `http://127.0.0.1:${target.port}/admin`), PRIVATE);
  });

  test("[::1] is refused", async () => {
    refused(await fetchVia(acme, `http://[::1]:${target.port}/admin`), PRIVATE);
  });

  test("10.0.0.0/8 is refused", async () => {
    refused(await fetchVia(acme, "http://10.1.2.3/internal"), PRIVATE);
  });

  test("172.16.0.0/12 is refused", async () => {
    refused(await fetchVia(acme, "http://172.16.5.4/internal"), PRIVATE);
    refused(await fetchVia(acme, "http://172.31.255.254/internal"), PRIVATE);
  });

  test("192.168.0.0/16 is refused", async () => {
    refused(await fetchVia(acme, "http://192.168.1.1/router"), PRIVATE);
  });

  test("the cloud metadata address 169.254.169.254 is refused", async () => {
    refused(await fetchVia(acme, "http://169.254.169.254/latest/meta-data/iam/security-credentials/"), PRIVATE);
  });

  test("a hostname resolving to loopback (localhost) is refused", async () => {
    refused(await fetchVia(acme, `http://localhost:${target.port}/admin`), /localhost resolves to/);
  });

  test("0.0.0.0 is refused", async () => {
    refused(await fetchVia(acme, `http://0.0.0.0:${target.port}/admin`), PRIVATE);
  });

  test("alternative spellings of 127.0.0.1 (decimal, hex, short form) are refused", async () => {
    for (const host of ["2130706433", "0x7f000001", "127.1", "0177.0.0.1"]) refused(await fetchVia(acme, `http://${host}:${target.port}/admin`), PRIVATE);
  });

  test("IPv4-mapped and NAT64 IPv6 forms of loopback are refused", async () => {
    refused(await fetchVia(acme, `http://[::ffff:127.0.0.1]:${target.port}/admin`), PRIVATE);
    refused(await fetchVia(acme, `http://[64:ff9b::7f00:1]:${target.port}/admin`), PRIVATE);
  });

  test("a POST to a private address is refused too (no request body leaves)", async () => {
    refused(await fetchVia(acme, `http://127.0.0.1:${target.port}/write`, { method: "POST", body: "payload" }), PRIVATE);
  });
});

describe("schemes and URL forms", () => {
  test("file: URLs are refused", async () => {
    refused(await fetchVia(acme, "file:///etc/passwd"), /only http and https/);
  });

  test("data: URLs are refused", async () => {
    refused(await fetchVia(acme, "data:text/plain;base64,aGVsbG8="), /only http and https/);
  });

  test("other schemes (ftp:, blob:, ws:) are refused", async () => {
    for (const url of ["ftp://127.0.0.1/", "blob:http://x/1", "ws://127.0.0.1:1/"]) refused(await fetchVia(acme, url), /only http and https/);
  });

  test("URLs with credentials are refused", async () => {
    refused(await fetchVia(acme, "http://user:pass@example.com/"), /credentials/);
  });

  test("a malformed URL is a clear error", async () => {
    const out = await fetchVia(acme, "http://[not-an-address/");
    expect(out.fetched).toBe(false);
    expect(out.message).toMatch(/Invalid URL/);
  });

  test("more than 50 fetches in one call hit the fetch limit", async () => {
    const r = await acme.contained(
      "fetch-flood",
      `export default async () => {
        const out = await Promise.all(Array.from({ length: 60 }, () => fetch("http://10.0.0.1/").then(() => "fetched", (e) => e.message)));
        return { limited: out.filter((m) => /fetch limit exceeded/.test(m)).length, refused: out.filter((m) => /fetch refused/.test(m)).length };
      }`,
    );
    expect(r.output).toEqual({ limited: 10, refused: 50 });
  });

  test("an uncaught refusal fails the call with the refusal message", async () => {
    const r = await acme.contained("fetch-uncaught", `export default async () => (await fetch("http://127.0.0.1:${target.port}/")).text()`);
    expectToolError(r, /fetch refused/);
    expect(hits).toEqual([]);
  });
});

describe("org allowlist for private hosts (netlab allows 127.0.0.1 only)", () => {
  test("control: the allowed literal host is reached", async () => {
    const out = await fetchVia(netlab, `http://127.0.0.1:${redirector.port}/hello`);
    expect(out).toEqual({ fetched: true, status: 200, body: "first hop" });
  });

  test("control: a redirect to the allowed host is followed", async () => {
    const out = await fetchVia(netlab, `http://127.0.0.1:${redirector.port}/to-ip`);
    expect(out).toEqual({ fetched: true, status: 200, body: "internal admin data" });
    expect(hits).toEqual(["/via-ip"]);
  });

  test("a redirect from the allowed host to localhost is refused on the redirect hop", async () => {
    refused(await fetchVia(netlab, `http://127.0.0.1:${redirector.port}/to-localhost`), /localhost resolves to/);
  });

  test("a redirect to [::1], to metadata or to 10.x is refused", async () => {
    refused(await fetchVia(netlab, `http://127.0.0.1:${redirector.port}/to-ipv6`), PRIVATE);
    refused(await fetchVia(netlab, `http://127.0.0.1:${redirector.port}/to-metadata`), PRIVATE);
    refused(await fetchVia(netlab, `http://127.0.0.1:${redirector.port}/to-private`), PRIVATE);
  });

  test("a redirect to a file: URL is refused", async () => {
    refused(await fetchVia(netlab, `http://127.0.0.1:${redirector.port}/to-file`), /only http and https/);
  });

  test("a redirect loop ends with a clear error", async () => {
    const out = await fetchVia(netlab, `http://127.0.0.1:${redirector.port}/loop`);
    expect(out.fetched).toBe(false);
    expect(out.message).toMatch(/redirects/);
  });

  test("localhost itself stays refused: the allowlist names hosts, not addresses", async () => {
    refused(await fetchVia(netlab, `http://localhost:${target.port}/admin`), /localhost resolves to/);
  });

  test("the allowlist of one org does not apply to another", async () => {
    refused(await fetchVia(acme, `http://127.0.0.1:${redirector.port}/hello`), PRIVATE);
  });
});
