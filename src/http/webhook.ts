/**
 * A TRIGGER's inbound webhook (issue 17.6): `POST /hooks/<attachmentId>`. The request
 * proves it holds the trigger's secret (bearer or HMAC signature, platform/webhookSecret.ts),
 * is held to DZX_MAX_BODY_BYTES, DZX_MAX_JSON_DEPTH and the trigger's own rate, and is
 * answered 202 at once: the tool runs afterwards, in the sandbox like a hosted call.
 * What it returns is the event kept (throwing, or returning undefined or null, drops it); each kept
 * event is pushed to the sessions subscribed to `trigger://<name>/events`.
 */
import { Elysia } from "elysia";
import type { LiveServer } from "../actors/serverActors.ts";
import { hostedCatalog } from "../hosted/catalog.ts";
import type { PublishedTrigger } from "../hosted/publishedTool.ts";
import { textTooDeep, tooDeepMessage, valueTooDeep } from "../jsonDepth.ts";
import { Cancellation } from "../mcp/cancellation.ts";
import { keepEvent, triggerTarget, triggerWindow, TRIGGER_RATE } from "../platform/trigger.ts";
import { SIGNATURE_HEADER, webhookAuthentic } from "../platform/webhookSecret.ts";
import type { Services } from "../services.ts";
import { BodyTooLargeError, readBody } from "./body.ts";
import { hostedDepsOf } from "./hostedDeps.ts";
import { json } from "./jsonResponse.ts";
import { restError } from "./rest.ts";

const NO_TRIGGER = "No trigger webhook at this address (the attachment is unknown, is not a TRIGGER, or its server or tool was deleted)";
const UNAUTHORIZED =
  "Unauthorized: send the trigger's webhook secret as Authorization: Bearer <secret>, or sign the body: X-Dzx-Signature: sha256=<hex HMAC-SHA256 of the body under the secret>";

/** One accepted request, as the trigger's tool receives it. */
interface Delivery {
  id: string;
  receivedAt: Date;
  input: { body: unknown; headers: Record<string, string>; receivedAt: string };
}

/** The body as JSON when it parses, else its text. */
function bodyValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The request's headers, lower-cased, without the credentials. */
function shownHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    const n = name.toLowerCase();
    if (n !== "authorization" && n !== SIGNATURE_HEADER) out[n] = value;
  });
  return out;
}

/** Elysia plugin serving every trigger's webhook. */
export function webhooks(services: Services) {
  const db = services.database.db;
  const deps = hostedDepsOf(services);
  const { maxBodyBytes, maxJsonDepth } = services.config;

  /** Why an event is dropped, or undefined when it is kept. */
  const unkeepable = (output: unknown): string | undefined => {
    if (output === undefined || output === null) return "the tool returned nothing";
    if (valueTooDeep(output, maxJsonDepth)) return tooDeepMessage("The event", maxJsonDepth);
    const bytes = Buffer.byteLength(JSON.stringify(output) ?? "");
    return bytes > maxBodyBytes ? `the event is ${bytes} bytes, more than DZX_MAX_BODY_BYTES (${maxBodyBytes})` : undefined;
  };

  /** Runs the trigger's tool on one delivery; keeps and announces what it returns. */
  async function deliver(live: LiveServer, trigger: PublishedTrigger, d: Delivery): Promise<void> {
    const { server } = live.def;
    const stop = new Cancellation();
    // a shutdown lets the event finish, as it does a call in flight
    services.drain.track(stop);
    try {
      const catalog = hostedCatalog(live.def, live.published, deps);
      const { result, output } = await catalog.runTrigger({ requestId: d.id, signal: stop }, trigger, d.input);
      const dropped = result.isError ? "the tool failed" : unkeepable(output);
      if (dropped) {
        services.logger.debug("trigger event dropped", { serverId: server.id, attachmentId: trigger.attachmentId, eventId: d.id, reason: dropped });
        return;
      }
      await keepEvent(db, { id: d.id, orgId: server.orgId, serverId: server.id, attachmentId: trigger.attachmentId, receivedAt: d.receivedAt, event: output });
      // every process tells its own subscribers (services.ts listens on the change bus)
      await services.changes.publishResource(server.id, trigger.uri);
    } catch (err) {
      services.logger.error("trigger event failed", { serverId: server.id, attachmentId: trigger.attachmentId, eventId: d.id, err });
    } finally {
      services.drain.untrack(stop);
    }
  }

  async function receive(request: Request, attachmentId: string): Promise<Response> {
    const target = await triggerTarget(db, attachmentId);
    if (!target || target.toolType !== "TRIGGER") return restError("NOT_FOUND", NO_TRIGGER);
    const live = await services.servers.get(target.serverId, target.orgId);
    const trigger = live?.published.triggers.get(attachmentId);
    if (!live || !trigger) return restError("NOT_FOUND", NO_TRIGGER);
    let text: string;
    try {
      text = await readBody(request, maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLargeError) return restError("PAYLOAD_TOO_LARGE", err.message);
      throw err;
    }
    // a trigger whose secret was never issued opens to nobody
    const secret = target.sealedSecret === null ? null : services.box.open(target.sealedSecret);
    if (secret === null || !webhookAuthentic(secret, request.headers, text)) {
      return restError("UNAUTHORIZED", UNAUTHORIZED, { "www-authenticate": 'Bearer realm="dzx-webhook"' });
    }
    const a = await services.runtime.runPromise(services.keyActors.admit(triggerWindow(attachmentId), TRIGGER_RATE));
    const headers = { "ratelimit-limit": String(a.limit), "ratelimit-remaining": String(a.remaining), "ratelimit-reset": String(a.resetSec) };
    if (!a.ok) {
      const seconds = Math.ceil(a.retryAfterMs / 1000);
      return restError("RATE_LIMITED", `Rate limit exceeded for this trigger; retry after ${seconds}s`, { ...headers, "retry-after": String(seconds) }, { retryAfterMs: a.retryAfterMs });
    }
    if (textTooDeep(text, maxJsonDepth)) return restError("VALIDATION_ERROR", tooDeepMessage("The body", maxJsonDepth), headers);
    const receivedAt = new Date();
    // v7 ids of one process grow even within a millisecond: receivedAt ties still read newest first
    const id = Bun.randomUUIDv7();
    const input = { body: bodyValue(text), headers: shownHeaders(request.headers), receivedAt: receivedAt.toISOString() };
    // answered now: the sender never waits on the sandbox
    void deliver(live, trigger, { id, receivedAt, input });
    return json({ accepted: true, id }, 202, headers);
  }

  return new Elysia({ name: "dzx/webhooks" }).post("/hooks/:id", ({ request, params }) => receive(request, params.id), { parse: "none" });
}
