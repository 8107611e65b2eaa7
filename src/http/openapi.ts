/**
 * The OpenAPI 3.1 document for /api/v1, derived from the operation table.
 */
import { Type, type TObject, type TSchema } from "@sinclair/typebox";
import type { Operation } from "../management/operation.ts";
import { httpStatusOf } from "../platform/domainError.ts";

const plain = (s: TSchema) => JSON.parse(JSON.stringify(s)) as Record<string, unknown>;

/** The domain codes answered with this HTTP status, from the one status table, so a new code is documented. */
const codesAt = (status: number) =>
  Object.entries(httpStatusOf)
    .flatMap(([code, s]) => (s === status ? [code] : []))
    .join(" or ");

const ErrorBody = {
  type: "object",
  properties: { error: { type: "object", properties: { code: { type: "string" }, message: { type: "string" } }, required: ["code", "message"] } },
};

/** Builds the document once at start. */
export function openApiDocument(ops: Operation[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of ops) {
    const oaPath = op.rest.path.replace(/:(\w+)/g, "{$1}");
    const pathParams = [...op.rest.path.matchAll(/:(\w+)/g)].map((m) => m[1]);
    const props = ((op.args as TObject).properties ?? {}) as Record<string, TSchema>;
    const argOf = (p: string) => op.rest.rename?.[p] ?? p;
    const hasBody = op.rest.method !== "GET" && op.rest.method !== "DELETE";
    const used = new Set([...pathParams, ...pathParams.map(argOf)]);
    const parameters: unknown[] = pathParams.map((p) => ({ name: p, in: "path", required: true, schema: { type: "string" } }));
    let requestBody: unknown;
    if (hasBody) {
      const schema = op.rest.body ? props[op.rest.body] : Type.Omit(op.args as TObject, [...used]);
      if (op.rest.body) used.add(op.rest.body);
      requestBody = { required: Boolean(op.rest.body), content: { "application/json": { schema: plain(schema) } } };
    } else {
      for (const [name, schema] of Object.entries(props)) {
        if (used.has(name)) continue;
        parameters.push({ name, in: "query", required: false, schema: plain(schema) });
      }
    }
    paths[`/api/v1${oaPath}`] ??= {};
    paths[`/api/v1${oaPath}`][op.rest.method.toLowerCase()] = {
      operationId: op.name,
      summary: op.description,
      description: `MCP tool \`${op.name}\` on /mcp/dwizi. Requires scope \`${op.scope}\`.`,
      "x-dzx-scope": op.scope,
      parameters,
      ...(requestBody ? { requestBody } : {}),
      responses: {
        [String(op.rest.status ?? 200)]: { description: "Success" },
        ...Object.fromEntries(
          [
            ["400", codesAt(400)],
            ["401", "Missing or invalid API key"],
            ["403", codesAt(403)],
            ["404", codesAt(404)],
            ["409", codesAt(409)],
            ["429", "Rate limited"],
          ].map(([s, d]) => [s, { description: d, content: { "application/json": { schema: ErrorBody } } }]),
        ),
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "dzx management API", version: "0.1.0", description: "The same operations as the management MCP server at /mcp/dwizi." },
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer" },
        dwiziKey: { type: "apiKey", in: "header", name: "X-Dwizi-Key" },
        managementToken: { type: "apiKey", in: "header", name: "X-Management-Token" },
      },
    },
    security: [{ bearer: [] }, { dwiziKey: [] }, { managementToken: [] }],
    paths,
  };
}
