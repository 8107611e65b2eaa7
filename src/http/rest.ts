/**
 * The REST mirror under /api/v1, generated from the operation table: same
 * handlers, same scopes, errors as {error:{code,message}} with a fitting status.
 */
import { Value } from "@sinclair/typebox/value";
import { Elysia } from "elysia";
import { checkScope, invoke } from "../management/invoke.ts";
import type { Operation } from "../management/operation.ts";
import { operations } from "../management/table.ts";
import { DomainError, httpStatusOf, type DomainCode } from "../platform/domainError.ts";
import type { Services } from "../services.ts";
import { opContext } from "./opContext.ts";
import { requestIdOf } from "./requestId.ts";
import { BodyTooLargeError, readBody, type BodyLimits } from "./body.ts";
import { textTooDeep, tooDeepMessage } from "../jsonDepth.ts";
import { passKeyGate } from "./keyGate.ts";
import { openApiDocument } from "./openapi.ts";
import { json } from "./jsonResponse.ts";
import { Cancellation } from "../mcp/cancellation.ts";
import { ServerShutdown } from "../mcp/drain.ts";
import { DRAIN_RETRY_AFTER } from "./drainGate.ts";

/** A REST error answer. */
export function restError(code: DomainCode, message: string, headers: Record<string, string> = {}, extra: Record<string, unknown> = {}): Response {
  return json({ error: { code, message, ...extra } }, httpStatusOf[code], headers);
}

async function readJsonObject(request: Request, limits: BodyLimits): Promise<Record<string, unknown>> {
  const text = await readBody(request, limits.maxBodyBytes);
  if (text.trim() === "") return {};
  if (textTooDeep(text, limits.maxJsonDepth)) throw new DomainError("VALIDATION_ERROR", tooDeepMessage("The JSON body", limits.maxJsonDepth));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new DomainError("VALIDATION_ERROR", `Malformed JSON body: ${(err as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new DomainError("VALIDATION_ERROR", "The body must be a JSON object");
  return parsed as Record<string, unknown>;
}

function handler(services: Services, op: Operation) {
  const hasBody = op.rest.method !== "GET" && op.rest.method !== "DELETE";
  return async (request: Request, params: Record<string, string> | undefined) => {
    const gate = await passKeyGate(services, request);
    if (!gate.ok) return restError(gate.code, gate.message, gate.headers, gate.retryAfterMs ? { retryAfterMs: gate.retryAfterMs } : {});
    // made (and tracked by the drain) only when the operation reads it: only work worth stopping does
    let stop: Cancellation | undefined;
    const signal = () => {
      if (!stop) services.drain.track((stop = new Cancellation()));
      return stop;
    };
    try {
      checkScope(op, gate.principal); // before the body is read, as on MCP
      const body = hasBody ? await readJsonObject(request, services.config) : {};
      const path: Record<string, string> = {};
      for (const [k, v] of Object.entries(params ?? {})) path[op.rest.rename?.[k] ?? k] = v;
      const fromQuery = Value.Convert(op.args, Object.fromEntries(new URL(request.url).searchParams)) as Record<string, unknown>;
      const args = op.rest.body ? { ...fromQuery, ...path, [op.rest.body]: body } : { ...fromQuery, ...body, ...path };
      const ctx = { ...opContext(services, gate.principal, request), get signal() { return signal(); } };
      const out = await invoke(op, ctx, args);
      // what a stopped operation returned is only the trace of its stop
      if (stop?.reason instanceof ServerShutdown) return restError("UNAVAILABLE", stop.reason.message, { ...gate.headers, "retry-after": DRAIN_RETRY_AFTER });
      return json(out, op.rest.status ?? 200, gate.headers);
    } catch (err) {
      if (err instanceof DomainError) return restError(err.code, err.message, gate.headers, err.details ? { details: err.details } : {});
      if (err instanceof BodyTooLargeError) return restError("PAYLOAD_TOO_LARGE", err.message, gate.headers);
      services.logger.error("REST operation failed", { requestId: requestIdOf(request), operation: op.name, err });
      return restError("INTERNAL", "Internal error; the operation was not completed", gate.headers);
    } finally {
      if (stop) services.drain.untrack(stop);
    }
  };
}

/** Elysia plugin with one route per operation, plus the OpenAPI document. */
export function restApi(services: Services) {
  const app = new Elysia({ name: "dzx/rest", prefix: "/api/v1" });
  const doc = openApiDocument(operations);
  app.get("/openapi.json", () => json(doc, 200));
  for (const op of operations) {
    const h = handler(services, op);
    app.route(op.rest.method, op.rest.path, ({ request, params }) => h(request, params as Record<string, string>), {
      parse: "none",
    });
  }
  return app;
}
