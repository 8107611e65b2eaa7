/**
 * Checks that a tool's input/output schema is a valid JSON Schema (2020-12, the
 * MCP default dialect) describing an object, using Ajv rather than our own checker.
 */
import Ajv2020 from "ajv/dist/2020.js";
import { invalid } from "./domainError.ts";

const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false });

/** Throws VALIDATION_ERROR naming the field when `schema` is not a usable object schema. */
export function checkObjectSchema(field: string, schema: unknown): void {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) {
    throw invalid(`${field} must be a JSON Schema object`);
  }
  const s = schema as Record<string, unknown>;
  if (s.type !== "object") throw invalid(`${field} must describe an object: set "type": "object" at its root`);
  if (!ajv.validateSchema(s)) {
    const e = ajv.errors?.[0];
    throw invalid(`${field} is not a valid JSON Schema: ${e?.instancePath || "/"} ${e?.message ?? ""}`.trim());
  }
  try {
    ajv.compile(s);
  } catch (err) {
    throw invalid(`${field} is not a valid JSON Schema: ${(err as Error).message}`);
  }
}
