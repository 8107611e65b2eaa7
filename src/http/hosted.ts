/**
 * Hosted MCP servers over HTTP: `/mcp/srv_<id>` and `/api/v1/mcp/servers/<id>/protocol`
 * (Streamable HTTP), plus the legacy HTTP+SSE transport (`GET /mcp/srv_<id>/sse`,
 * `POST /mcp/srv_<id>/messages?sessionId=`). Each server is opened by its own
 * bearer token; sessions are bound to the token they were opened with.
 */
import { Elysia } from "elysia";
import type { LiveServer } from "../actors/serverActors.ts";
import { codeCatalog } from "../codemode/catalog.ts";
import { hostedCatalog } from "../hosted/catalog.ts";
import type { Catalog } from "../mcp/catalog.ts";
import { McpEngine } from "../mcp/engine.ts";
import { RpcCode } from "../mcp/jsonrpc.ts";
import { RequestStateSeal } from "../mcp/requestState.ts";
import type { Services } from "../services.ts";
import { looksLikeApiKey } from "../platform/token.ts";
import { requestBaseUrl } from "./baseUrl.ts";
import { bearerToken } from "./credential.ts";
import { hostedDepsOf } from "./hostedDeps.ts";
import { originGuard } from "./originGuard.ts";
import { requestIdOf } from "./requestId.ts";
import { legacySseEndpoint } from "./legacySse.ts";
import { json, rpcErrorResponse } from "./jsonResponse.ts";
import { streamableEndpoint, type Admitted, type EndpointOptions } from "./streamable.ts";

const API_KEY_SENT =
  "Unauthorized: this endpoint wants the server's own token (Authorization: Bearer mcp_…, shown when the server was created or its token rotated), " +
  "and a dwz_… API key was sent; API keys open the management plane (/mcp/dwizi, /api/v1)";
const UNAUTHORIZED_HEADERS = { "www-authenticate": 'Bearer realm="dzx", error="invalid_token"' };

/** The handlers of every hosted server's endpoints. */
export type HostedEndpoints = ReturnType<typeof hostedEndpoints>;

/** Builds the hosted servers' handlers (one engine, one catalog cache for all of them). */
export function hostedEndpoints(services: Services) {
  // tools ask on the 2026-07-28 lane through sealed rounds: any process with this DZX_SECRET_KEY opens their state
  const requestState = new RequestStateSeal(services.box.derive("mcp requestState"), services.config.elicitTimeoutMs);
  const engine = new McpEngine({ name: "dzx", version: "0.1.0" }, services.drain, { requestState });
  const guard = originGuard(services.config);
  const onInternalError = (err: unknown, request: Request) => services.logger.error("hosted server request failed", { requestId: requestIdOf(request), err });
  const deps = hostedDepsOf(services);

  /** The server the path names, opened by the request's bearer token; or the refusal. */
  function admit(request: Request, pathId: string): Admitted<LiveServer> | Response | Promise<Admitted<LiveServer> | Response> {
    const refused = guard(request);
    if (refused) return refused;
    const token = bearerToken(request.headers.get("authorization"));
    if (!token) {
      return rpcErrorResponse(401, { code: RpcCode.Unauthorized, message: "Unauthorized: send the server's token as Authorization: Bearer mcp_…" }, UNAUTHORIZED_HEADERS);
    }
    const id = pathId.startsWith("srv_") ? pathId.slice(4) : pathId;
    // the hot path: a known token of a loaded server answers without a promise
    const known = services.servers.peek(token);
    if (known && known.hit.serverId === id) return { auth: known.live, owner: known.hit.owner, group: id, headers: {} };
    return admitSlowly(token, id);
  }

  /** A token not seen yet, or a server not loaded yet: look them up. */
  async function admitSlowly(token: string, id: string): Promise<Admitted<LiveServer> | Response> {
    // a management key here is the usual mix-up: say so rather than blame a rotation
    if (looksLikeApiKey(token)) return rpcErrorResponse(401, { code: RpcCode.Unauthorized, message: API_KEY_SENT }, UNAUTHORIZED_HEADERS);
    const hit = await services.servers.authenticate(token);
    if (!hit || hit.serverId !== id) {
      return rpcErrorResponse(401, { code: RpcCode.Unauthorized, message: "Unauthorized: the token is not valid for this server (rotated, or the server was deleted)" }, UNAUTHORIZED_HEADERS);
    }
    const live = await services.servers.get(hit.serverId, hit.orgId);
    if (!live) return rpcErrorResponse(404, { code: RpcCode.InvalidRequest, message: "Not found: this server no longer exists" });
    return { auth: live, owner: hit.owner, group: hit.serverId, headers: {} };
  }

  // one catalog per loaded definition (and base URL its links point to: one, with DZX_PUBLIC_URL set):
  // a reload brings a new LiveServer, and the old entries go with it
  const catalogs = new WeakMap<LiveServer, Map<string, Catalog>>();
  const catalogFor = (live: LiveServer, request: Request) => {
    // only an end user's server has links to make: the others skip parsing the URL on the hot path
    const baseUrl = live.def.server.endUserId ? requestBaseUrl(services.config, request) : "";
    let byBase = catalogs.get(live);
    if (!byBase) catalogs.set(live, (byBase = new Map()));
    let c = byBase.get(baseUrl);
    if (!c) {
      const tools = hostedCatalog(live.def, live.published, deps, baseUrl);
      c = live.def.server.mode === "CODE" ? codeCatalog(live.def, live.published, deps, tools) : tools;
      byBase.set(baseUrl, c);
    }
    return c;
  };

  /**
   * `/mcp/srv_<id>` or `/api/v1/mcp/servers/<id>/protocol` → the id segment: from Bun's router when
   * it routed the request (server.ts; it has parsed the path already), else from the URL.
   */
  const pathId = (request: Request) => {
    const params = (request as Request & { params?: Record<string, string> }).params;
    const routed = params?.name ?? params?.id;
    if (routed !== undefined) return routed;
    const url = request.url;
    const start = url.indexOf("/", url.indexOf("//") + 2);
    const query = url.indexOf("?", start);
    const parts = url.slice(start, query < 0 ? undefined : query).split("/");
    return parts[1] === "mcp" ? parts[2] : parts[5];
  };
  const options: EndpointOptions<LiveServer> = {
    engine,
    sessions: services.hostedSessions,
    limits: services.config,
    requireSession: true,
    admit: (request) => admit(request, pathId(request)),
    catalogFor,
    onInternalError,
  };
  const endpoint = streamableEndpoint(options);

  return { ...endpoint, legacy: legacySseEndpoint(options) };
}

/**
 * Elysia plugin serving every hosted server. Bun.serve routes the Streamable HTTP
 * POST (the hot path) straight to `hosted.post` (server.ts); these routes serve every request.
 */
export function hostedMcp(hosted: HostedEndpoints) {
  const { legacy } = hosted;
  const notFound = (path: string) => json({ error: { code: "NOT_FOUND", message: `No route for ${path}` } }, 404);
  const hostedId = (name: string) => name.startsWith("srv_");
  const opts = { parse: "none" as const };
  return new Elysia({ name: "dzx/hosted-mcp" })
    .post("/mcp/:name", ({ request, params }) => (hostedId(params.name) ? hosted.post(request) : notFound(`/mcp/${params.name}`)), opts)
    .get("/mcp/:name", ({ request, params }) => (hostedId(params.name) ? hosted.get(request) : notFound(`/mcp/${params.name}`)))
    .delete("/mcp/:name", ({ request, params }) => (hostedId(params.name) ? hosted.delete(request) : notFound(`/mcp/${params.name}`)))
    .get("/mcp/:name/sse", ({ request, params }) => (hostedId(params.name) ? legacy.stream(request) : notFound(`/mcp/${params.name}/sse`)))
    .post("/mcp/:name/messages", ({ request, params }) => (hostedId(params.name) ? legacy.message(request) : notFound(`/mcp/${params.name}/messages`)), opts)
    .post("/api/v1/mcp/servers/:id/protocol", ({ request }) => hosted.post(request), opts)
    .get("/api/v1/mcp/servers/:id/protocol", ({ request }) => hosted.get(request))
    .delete("/api/v1/mcp/servers/:id/protocol", ({ request }) => hosted.delete(request));
}
