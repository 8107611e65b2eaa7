/**
 * RFC 6570 templates as resource templates use them (src/uriTemplate.ts): what parses,
 * what is refused and why, and how a URI matches — one way only, percent-decoded.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { parseUriTemplate } from "../../src/uriTemplate.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

const m = (template: string, uri: string) => parseUriTemplate(template).match(uri);

describe("matching", () => {
  test("level 1: {var} fills one segment, percent-decoded", () => {
    expect(m("test://template/{id}/data", "test://template/123/data")).toEqual({ id: "123" });
    expect(m("test://template/{id}/data", "test://template/a%20b%2Fc/data")).toEqual({ id: "a b/c" });
    expect(m("test://template/{id}/data", "test://template/1/2/data")).toBeUndefined();
    expect(m("test://template/{id}/data", "test://template//data")).toBeUndefined();
    expect(m("test://template/{id}/data", "test://template/123/data/more")).toBeUndefined();
    expect(m("test://template/{id}/data", "other://template/123/data")).toBeUndefined();
    expect(m("test://template/{id}/data", "test://template/%E0%A4%A/data")).toBeUndefined();
  });

  test("a value ends at the first occurrence of the literal after it", () => {
    expect(m("files://{name}.json", "files://a.b.json")).toEqual({ name: "a.b" });
    expect(m("x://{a}-{b}", "x://one-two-three")).toEqual({ a: "one", b: "two-three" });
    // each value is at least one character: a leading "-" belongs to the first value
    expect(m("x://{a}-{b}", "x://--two")).toEqual({ a: "-", b: "two" });
    expect(m("x://{a}-{b}", "x://-two")).toBeUndefined();
  });

  test("level 2: {+var} spans slashes, {#var} takes the fragment", () => {
    expect(m("docs://{+path}", "docs://guides/intro.md")).toEqual({ path: "guides/intro.md" });
    expect(m("repo://{+path}/raw", "repo://a/b/raw")).toEqual({ path: "a/b" });
    expect(m("page://{id}{#section}", "page://7#usage")).toEqual({ id: "7", section: "usage" });
  });

  test("level 3: several variables, path and label expansion", () => {
    expect(m("geo://{lat},{lon}", "geo://1.5,2")).toEqual({ lat: "1.5", lon: "2" });
    expect(m("geo://{lat,lon}", "geo://1.5,2")).toEqual({ lat: "1.5", lon: "2" });
    expect(m("geo://{lat,lon}", "geo://1.5")).toBeUndefined();
    expect(m("api://host{/version,name}", "api://host/v1/users")).toEqual({ version: "v1", name: "users" });
    expect(m("file://f{.ext}", "file://f.txt")).toEqual({ ext: "txt" });
  });

  test("query parameters are optional, in any order, each once, none unknown", () => {
    const t = "search://items{?q,limit}";
    expect(m(t, "search://items")).toEqual({});
    expect(m(t, "search://items?q=red%20shoes")).toEqual({ q: "red shoes" });
    expect(m(t, "search://items?limit=5&q=x")).toEqual({ q: "x", limit: "5" });
    expect(m(t, "search://items?q=x&q=y")).toBeUndefined();
    expect(m(t, "search://items?other=1")).toBeUndefined();
    expect(m("users://{id}{?fields}", "users://42?fields=name")).toEqual({ id: "42", fields: "name" });
    expect(m("users://{id}{?fields}", "users://42")).toEqual({ id: "42" });
    expect(m("s://x?fixed=1{&page}", "s://x?fixed=1&page=2")).toEqual({ page: "2" });
  });

  test("regular-expression characters in a template are literal text", () => {
    expect(m("x://a.*(b)+/{id}", "x://a.*(b)+/1")).toEqual({ id: "1" });
    expect(m("x://a.*(b)+/{id}", "x://aXXbb/1")).toBeUndefined();
  });

  test("matching stays linear on hostile input", () => {
    const t = parseUriTemplate("x://{a}-{b}-{c}-{d}-{e}-{f}-{g}-{h}!");
    const uri = `x://${"-".repeat(100_000)}`;
    const started = performance.now();
    expect(t.match(uri)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe("validation", () => {
  const refused: [string, RegExp][] = [
    ["docs://plain", /no \{variable\}/],
    ["docs://{topic", /not closed/],
    ["docs://topic}", /closes no expression/],
    ["docs://{}", /empty expression/],
    ["docs://{a{b}}", /cannot nest/],
    ["docs://{a}{b}", /need literal text between them/],
    ["docs://{+a}{b}", /need literal text between them/],
    ["docs://{a*}", /level 4/],
    ["docs://{a:3}", /level 4/],
    ["docs://{;a}", /operator ";"/],
    ["docs://{1a}", /not a variable name/],
    ["docs://{a-b}", /not a variable name/],
    ["docs://{a}/{a}", /appears twice/],
    ["docs://{+a,b}", /takes one variable/],
    ["docs://{?q}/{id}", /must come last/],
    ["{scheme}://x", /literal scheme/],
  ];
  for (const [template, why] of refused) {
    test(`refuses ${template}`, () => {
      expect(() => parseUriTemplate(template)).toThrow(why);
    });
  }

  test("lists its variables in order", () => {
    expect(parseUriTemplate("api://{org}/repos{/repo}{?page,per_page}").variables).toEqual(["org", "repo", "page", "per_page"]);
  });
});
