/**
 * The 2026-07-28 protocol revision as `@modelcontextprotocol/client` 2.x speaks it:
 * no initialize and no session — every request carries an envelope in
 * `params._meta` (protocol version, client info and capabilities, log level);
 * `server/discover` replaces the handshake; results carry `resultType` (and list
 * and read results a cache hint); `subscriptions/listen` is a long-lived stream
 * of change notifications. This codec turns engine results into that shape.
 */
import { RpcCode, type RpcErrorBody, type RpcResponse } from "./jsonrpc.ts";

/** Revisions of this lane we speak. */
export const MODERN_VERSIONS = ["2026-07-28"] as const;

/** Envelope keys in `params._meta`. */
export const META = {
  protocolVersion: "io.modelcontextprotocol/protocolVersion",
  clientInfo: "io.modelcontextprotocol/clientInfo",
  clientCapabilities: "io.modelcontextprotocol/clientCapabilities",
  logLevel: "io.modelcontextprotocol/logLevel",
  serverInfo: "io.modelcontextprotocol/serverInfo",
  subscriptionId: "io.modelcontextprotocol/subscriptionId",
} as const;

/** Server-defined error: the envelope names a revision we do not speak. */
export const UNSUPPORTED_PROTOCOL_VERSION = -32022;

/** Server-defined error: a routing header (Mcp-Method, Mcp-Name) disagrees with the body. */
export const HEADER_MISMATCH = -32020;

/**
 * Why the routing headers of a request disagree with its body, or undefined. Proxies
 * route on them, so a request whose headers say one thing and body another is refused.
 * `Mcp-Name` values that are not plain ASCII arrive as `=?base64?…?=`.
 */
export function headerMismatch(method: string, params: Record<string, unknown> | undefined, headers: Headers): RpcErrorBody | undefined {
  const hMethod = headers.get("mcp-method");
  if (hMethod !== null && hMethod !== method) {
    return { code: HEADER_MISMATCH, message: `Mcp-Method header "${hMethod}" does not match the body's method "${method}"` };
  }
  const raw = headers.get("mcp-name");
  if (raw === null) return undefined;
  const b64 = /^=\?base64\?(.*)\?=$/.exec(raw);
  const hName = b64 ? Buffer.from(b64[1], "base64").toString("utf8") : raw;
  const name = method === "resources/read" ? params?.uri : params?.name;
  if (typeof name === "string" && hName !== name) {
    return { code: HEADER_MISMATCH, message: `Mcp-Name header "${hName}" does not match the body's ${method === "resources/read" ? "uri" : "name"} "${name}"` };
  }
  return undefined;
}

/** What a request's envelope says. */
export interface Envelope {
  protocolVersion: string;
  clientInfo?: unknown;
  clientCapabilities?: unknown;
  logLevel?: string;
}

/** The envelope of a message's params, when it has one (then it is on this lane). */
export function envelopeOf(params: Record<string, unknown> | undefined): Envelope | undefined {
  const meta = params?._meta as Record<string, unknown> | undefined;
  const version = meta?.[META.protocolVersion];
  if (typeof version !== "string") return undefined;
  return {
    protocolVersion: version,
    clientInfo: meta![META.clientInfo],
    clientCapabilities: meta![META.clientCapabilities],
    logLevel: typeof meta![META.logLevel] === "string" ? (meta![META.logLevel] as string) : undefined,
  };
}

/** Whether a version header or envelope names this lane. */
export function isModernVersion(version: string): boolean {
  return (MODERN_VERSIONS as readonly string[]).includes(version);
}

/** Why an envelope cannot be served, or undefined when it can. */
export function envelopeError(env: Envelope): RpcErrorBody | undefined {
  if (!isModernVersion(env.protocolVersion)) {
    return {
      code: UNSUPPORTED_PROTOCOL_VERSION,
      message: `Unsupported protocol version "${env.protocolVersion}"`,
      data: { supported: [...MODERN_VERSIONS], requested: env.protocolVersion },
    };
  }
  if (typeof env.clientCapabilities !== "object" || env.clientCapabilities === null) {
    return { code: RpcCode.InvalidParams, message: `Invalid params: _meta["${META.clientCapabilities}"] is required on every request` };
  }
  return undefined;
}

/** Results that carry a cache hint on this lane. */
const CACHEABLE = new Set(["tools/list", "resources/list", "resources/templates/list", "prompts/list", "resources/read", "server/discover"]);

/** An engine response in this lane's shape: resultType, cache hint where required, serverInfo in _meta. */
export function encodeResponse(method: string, res: RpcResponse, serverInfo: { name: string; version: string }): RpcResponse {
  if (!("result" in res)) return res;
  const value = (res.result ?? {}) as Record<string, unknown>;
  const { serverInfo: _dropped, ...rest } = value;
  const meta = { ...((rest._meta as Record<string, unknown>) ?? {}), [META.serverInfo]: serverInfo };
  return {
    jsonrpc: "2.0",
    id: res.id,
    result: { resultType: "complete", ...rest, ...(CACHEABLE.has(method) ? { ttlMs: 0, cacheScope: "private" } : {}), _meta: meta },
  };
}

/** The notification kinds a listen filter may ask for, and the methods they stand for. */
export const LISTEN_KINDS = {
  toolsListChanged: "notifications/tools/list_changed",
  promptsListChanged: "notifications/prompts/list_changed",
  resourcesListChanged: "notifications/resources/list_changed",
} as const;
