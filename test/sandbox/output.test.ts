/**
 * Output shaping (SPEC "tools/call result"): content always, structuredContent for
 * objects or when an output schema exists (validated), isError for failures.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { shapeResult } from "../../src/sandbox/output.ts";
import type { CallOutcome } from "../../src/sandbox/protocol.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

const ok = (output: unknown): CallOutcome => ({ ok: true, output, logs: [], durationMs: 1 });
const shape = (outcome: CallOutcome, schema?: Record<string, unknown>) => shapeResult(outcome, schema).result;
const schema = { type: "object", required: ["n"], properties: { n: { type: "number" } } };

test("a string output is the text as is, without structuredContent", () => {
  expect(shape(ok("hello"))).toEqual({ content: [{ type: "text", text: "hello" }] });
});

test("an object output is JSON text and structuredContent", () => {
  expect(shape(ok({ a: 1 }))).toEqual({ content: [{ type: "text", text: '{"a":1}' }], structuredContent: { a: 1 } });
});

test("arrays and numbers are JSON text only (structuredContent must be an object)", () => {
  expect(shape(ok([1, 2]))).toEqual({ content: [{ type: "text", text: "[1,2]" }] });
  expect(shape(ok(42))).toEqual({ content: [{ type: "text", text: "42" }] });
});

test("undefined output gives empty text, or an error when an output schema is declared", () => {
  expect(shape(ok(undefined))).toEqual({ content: [{ type: "text", text: "" }] });
  const r = shape(ok(undefined), schema);
  expect(r.isError).toBe(true);
  expect(r.content[0]).toMatchObject({ text: expect.stringContaining("output schema") });
});

test("an output schema is enforced", () => {
  expect(shape(ok({ n: 1 }), schema)).toEqual({ content: [{ type: "text", text: '{"n":1}' }], structuredContent: { n: 1 } });
  const bad = shape(ok({ n: "x" }), schema);
  expect(bad.isError).toBe(true);
  expect((bad.content[0] as { text: string }).text).toContain("/n");
});

test("a failed call is isError with the message and nothing else", () => {
  const r = shape({ ok: false, error: { message: "Timed out after 5 ms", limit: "timeout" }, logs: [], durationMs: 5 });
  expect(r).toEqual({ content: [{ type: "text", text: "Timed out after 5 ms" }], isError: true });
});
