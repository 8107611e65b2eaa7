/**
 * The end-user setup page (issue 17.7), end to end in headless Chromium: the
 * missing-secret error of an `endUserId` server carries a signed, expiring link;
 * the end user opens it, fills the form, submits, and the same tool call then
 * succeeds with the value (stored as that end user's secret, never shown back).
 * A tampered or expired link is an error page; a POST without the link's token is refused.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { chromium, type Browser } from "playwright-core";
import { op } from "../support/client.ts";
import { chromiumPath } from "../support/chromium.ts";
import { startWithClients, type Stack } from "../support/dzx.ts";
import { createServer, hostedClient } from "./support.ts";

setDefaultTimeout(60_000);

const VALUE = "tok-secret-value-98765";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

let stack: Stack<"admin">;
let admin: Client;
let browser: Browser;
const clients: Client[] = [];

const textOf = (r: any) => r.content.map((c: any) => c.text).join("");
const linkIn = (text: string) => /(http:\/\/\S+\/setup\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/.exec(text)?.[1];

/** An org with a tool needing API_TOKEN, a server for end user u-1, and that server's client. */
async function setUp(s: Stack<"admin">) {
  await op(s.clients.admin, "dwizi.tools.create", {
    tool: { name: "ticket", secrets: ["API_TOKEN"], source: "export default async (i, context) => 'token ends in ' + context.secrets.API_TOKEN.slice(-5)" },
  });
  const server = await createServer(s.clients.admin, { name: "Helpdesk", endUserId: "u-1", toolIds: ["ticket"] });
  const c = await hostedClient(server.endpoint, server.token);
  clients.push(c);
  return c;
}

/** The setup link of a call refused for a missing secret. */
async function refusedLink(c: Client): Promise<string> {
  const r = await c.callTool({ name: "ticket", arguments: {} });
  expect(r.isError).toBe(true);
  const text = textOf(r);
  expect(text).toContain(`Missing secret "API_TOKEN" for end user "u-1"`);
  const link = linkIn(text);
  expect(link).toBeDefined();
  return link!;
}

beforeAll(async () => {
  stack = await startWithClients({ admin: ["acme"] });
  admin = stack.clients.admin;
  browser = await chromium.launch({ executablePath: chromiumPath(), args: ARGS });
}, 60_000);
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await browser?.close();
  await stack?.dispose();
});

describe("the end-user setup page", () => {
  let client: Client;
  let link: string;

  test("the missing-secret error of an endUserId server carries a setup link under the server's base URL, valid 24 h", async () => {
    client = await setUp(stack);
    const r = await client.callTool({ name: "ticket", arguments: {} });
    expect(textOf(r)).toContain("(the link is valid for 24 h)");
    link = await refusedLink(client);
    expect(link.startsWith(`${stack.dzx.url}/setup/`)).toBe(true);
  });

  test("a POST without the link's token (or with another) is refused and stores nothing", async () => {
    for (const body of [`secret:API_TOKEN=${VALUE}`, `token=forged.token&secret:API_TOKEN=${VALUE}`]) {
      const res = await fetch(link, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body });
      expect(res.status).toBe(403);
      expect(await res.text()).toContain("was not sent with its setup link");
    }
    // a cross-site browser post is refused even with the token
    const token = link.slice(link.lastIndexOf("/") + 1);
    const cross = await fetch(link, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://evil.example", "sec-fetch-site": "cross-site" },
      body: `token=${token}&secret:API_TOKEN=${VALUE}`,
    });
    expect(cross.status).toBe(403);
    expect((await op(admin, "dwizi.secrets.list", {})).secrets).toEqual([]);
  });

  test("in Chromium: open the link, fill the form, submit, see a success page that does not echo the value", async () => {
    const page = await browser.newPage();
    try {
      const opened = await page.goto(link);
      expect(opened?.status()).toBe(200);
      expect(await page.locator("h1").textContent()).toBe("Set up Helpdesk");
      expect(opened?.headers()["referrer-policy"]).toBe("same-origin");
      await page.getByLabel("API_TOKEN").fill(VALUE);
      const [answer] = await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Save" }).click()]);
      expect(answer?.status()).toBe(200);
      expect(await page.locator("h1").textContent()).toBe("Saved");
      expect(await page.content()).not.toContain(VALUE);
      // opening the link again shows an empty form, not the value
      await page.goto(link);
      expect(await page.content()).not.toContain(VALUE);
      expect(await page.getByLabel("API_TOKEN").inputValue()).toBe("");
    } finally {
      await page.close();
    }
    const { secrets } = await op(admin, "dwizi.secrets.list", {});
    expect(secrets).toEqual([expect.objectContaining({ name: "API_TOKEN", endUserId: "u-1", masked: `••••${VALUE.slice(-4)}` })]);
  });

  test("after submitting, the same tool call succeeds and the tool sees the value", async () => {
    const r = await client.callTool({ name: "ticket", arguments: {} });
    expect(r.isError).toBeFalsy();
    expect(textOf(r)).toBe(`token ends in ${VALUE.slice(-5)}`);
  });

  test("a tampered link is an error page (400), without internals", async () => {
    const token = link.slice(link.lastIndexOf("/") + 1);
    const i = 6;
    const tampered = `${stack.dzx.url}/setup/${token.slice(0, i)}${token[i] === "A" ? "B" : "A"}${token.slice(i + 1)}`;
    const page = await browser.newPage();
    try {
      const res = await page.goto(tampered);
      expect(res?.status()).toBe(400);
      expect(await page.locator("h1").textContent()).toBe("This setup link is not valid");
      expect(await page.content()).not.toMatch(/\.ts:\d+|Error:/);
    } finally {
      await page.close();
    }
    const cut = await fetch(link.slice(0, -10));
    expect(cut.status).toBe(400);
  });
});

describe("an expired setup link", () => {
  let short: Stack<"admin">;
  afterAll(async () => {
    await short?.dispose();
  });

  test("is an error page (410) in Chromium, and its POST is refused too", async () => {
    short = await startWithClients({ admin: ["acme"] }, { DZX_SETUP_LINK_TTL_MS: "1" });
    const c = await setUp(short);
    const link = await refusedLink(c);
    const page = await browser.newPage();
    try {
      const res = await page.goto(link);
      expect(res?.status()).toBe(410);
      expect(await page.locator("h1").textContent()).toBe("This setup link has expired");
    } finally {
      await page.close();
    }
    const token = link.slice(link.lastIndexOf("/") + 1);
    const post = await fetch(link, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `token=${token}&secret:API_TOKEN=${VALUE}` });
    expect(post.status).toBe(410);
    expect((await op(short.clients.admin, "dwizi.secrets.list", {})).secrets).toEqual([]);
  });
});
