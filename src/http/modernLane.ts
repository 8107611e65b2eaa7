/**
 * The 2026-07-28 lane over Streamable HTTP: no session — each request carries its
 * envelope; a dropped request connection cancels it; `subscriptions/listen` is an
 * SSE stream that acknowledges its filter and then carries change notifications.
 * Listen streams are registered as sessions of the server's group so the same
 * fan-out (and token rotation) reaches them.
 */
import { failure, RpcCode, type Incoming, type RpcRequest } from "../mcp/jsonrpc.ts";
import { encodeResponse, envelopeError, envelopeOf, headerMismatch, LISTEN_KINDS, META, type Envelope } from "../mcp/rev2026.ts";
import type { Catalog } from "../mcp/catalog.ts";
import { SSE_HEADERS } from "./sse.ts";
import { answer } from "./answer.ts";
import { json } from "./jsonResponse.ts";
import { parseCharged, runMessages, sessionStream, type Admitted, type EndpointOptions, type Parsed } from "./streamable.ts";

/** Serves one POST on the 2026-07-28 lane. */
export async function serveModern<A>(opts: EndpointOptions<A>, request: Request, admitted: Admitted<A>, parsed?: Parsed): Promise<Response> {
  const headers = { ...admitted.headers };
  // a body the caller parsed was charged there
  const body = parsed ?? (await parseCharged(opts, request, admitted, headers));
  if (body instanceof Response) return body;
  const { batch, messages } = body;

  // every request must carry a usable envelope; alone, a bad one is an HTTP 400 as the lane expects
  const requests: Incoming[] = [];
  const refused: ReturnType<typeof failure>[] = [];
  let envelope: Envelope | undefined;
  for (const m of messages) {
    if (m.kind === "notification") {
      cancel(opts, admitted, m.msg.method, m.msg.params);
      continue;
    }
    if (m.kind !== "request") {
      requests.push(m);
      continue;
    }
    const env = envelopeOf(m.msg.params);
    // routing headers describe the whole POST: in a batch, every request they disagree with is refused
    const problem = env
      ? (envelopeError(env) ?? headerMismatch(m.msg.method, m.msg.params, request.headers))
      : { code: RpcCode.InvalidParams, message: `Invalid params: _meta["${META.protocolVersion}"] is required on this protocol lane` };
    if (problem) {
      if (!batch) return json(failure(m.msg.id, problem), 400, headers);
      refused.push(failure(m.msg.id, problem));
      continue;
    }
    envelope ??= env;
    requests.push(m);
  }
  const catalog = await opts.catalogFor(admitted.auth, request);
  const listen = requests.find((m) => m.kind === "request" && m.msg.method === "subscriptions/listen");
  if (listen?.kind === "request") {
    if (batch) return json(failure(listen.msg.id, { code: RpcCode.InvalidRequest, message: "Invalid Request: subscriptions/listen must not be batched" }), 400, headers);
    return openListen(opts, { ...admitted, headers }, request, listen.msg, envelope!, catalog);
  }
  const serverInfo = opts.engine.serverInfo;
  return answer(request, headers, batch, requests, async (signal, channel) => {
    const responses = await runMessages(opts.engine, catalog, requests, undefined, signal, channel, (err) => opts.onInternalError(err, request), {
      logLevel: envelope?.logLevel ?? null,
      capabilitiesOf: (params) => envelopeOf(params)?.clientCapabilities as Record<string, unknown> | undefined,
      encode: (method, res) => encodeResponse(method, res, serverInfo),
      roundsBoundTo: admitted.group ?? admitted.owner,
    });
    return [...refused, ...responses];
  });
}

/** notifications/cancelled on this lane ends a listen stream of the same caller (requests are cancelled by dropping their connection). */
function cancel<A>(opts: EndpointOptions<A>, admitted: Admitted<A>, method: string, params: Record<string, unknown> | undefined): void {
  if (method !== "notifications/cancelled" && method !== "notifications/canceled") return;
  const id = params?.requestId;
  if (typeof id !== "string" && typeof id !== "number") return;
  for (const s of opts.sessions.inGroup(admitted.group ?? admitted.owner)) {
    if (s.owner === admitted.owner) s.inflight.get(String(id))?.abort(new Error("cancelled by the client"));
  }
}

/** Opens a listen stream: the acknowledgement of the honoured filter first, then matching notifications. */
function openListen<A>(opts: EndpointOptions<A>, admitted: Admitted<A>, request: Request, msg: RpcRequest, env: Envelope, catalog: Catalog): Response {
  const filter = (msg.params?.notifications ?? {}) as Record<string, unknown>;
  const uris = filter.resourceSubscriptions;
  if (typeof filter !== "object" || Array.isArray(filter) || (uris !== undefined && (!Array.isArray(uris) || uris.some((u) => typeof u !== "string")))) {
    return json(failure(msg.id, { code: RpcCode.InvalidParams, message: `Invalid params: "notifications" must be a filter {toolsListChanged?, promptsListChanged?, resourcesListChanged?, resourceSubscriptions?: string[]}` }), 200, admitted.headers);
  }
  const caps = opts.engine.capabilities(catalog) as Record<string, { listChanged?: boolean; subscribe?: boolean } | undefined>;
  const capOf = { toolsListChanged: caps.tools, promptsListChanged: caps.prompts, resourcesListChanged: caps.resources };
  const honoured: Record<string, unknown> = {};
  const methods = new Set<string>();
  for (const [kind, method] of Object.entries(LISTEN_KINDS)) {
    if (filter[kind] === true && capOf[kind as keyof typeof capOf]?.listChanged) {
      honoured[kind] = true;
      methods.add(method);
    }
  }
  if (Array.isArray(uris) && caps.resources?.subscribe) {
    honoured.resourceSubscriptions = uris;
    methods.add("notifications/resources/updated");
  }
  let session: ReturnType<typeof opts.sessions.open>;
  try {
    session = opts.sessions.open(admitted.owner, env.protocolVersion, env.clientInfo, env.clientCapabilities as Record<string, unknown>, admitted.group);
  } catch (err) {
    return json(failure(msg.id, { code: RpcCode.InternalError, message: (err as Error).message }), 200, admitted.headers);
  }
  for (const u of (honoured.resourceSubscriptions as string[] | undefined) ?? []) session.subscriptions.add(u);
  const subscriptionId = String(msg.id);
  const stamp = { [META.subscriptionId]: subscriptionId };
  const live = sessionStream(
    session,
    request,
    () => opts.sessions.close(session.id, admitted.owner),
    (stream, m) => {
      const n = m as { method?: string; params?: Record<string, unknown> };
      if (n.method && methods.has(n.method)) stream.send({ ...n, params: { ...n.params, _meta: { ...(n.params?._meta as object), ...stamp } } });
    },
  );
  // notifications/cancelled naming the listen request ends the stream
  session.inflight.set(subscriptionId, { abort: () => live.close() });
  live.send({ jsonrpc: "2.0", method: "notifications/subscriptions/acknowledged", params: { notifications: honoured, _meta: stamp } });
  return new Response(live.body, { status: 200, headers: { ...admitted.headers, ...SSE_HEADERS } });
}
