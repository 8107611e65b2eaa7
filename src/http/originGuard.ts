/**
 * DNS-rebinding guard for MCP endpoints: the Host header must name this server
 * (DZX_ALLOWED_HOSTS, or loopback names when bound to loopback), and a browser's
 * Origin must be the same host, loopback, or listed in DZX_ALLOWED_ORIGINS.
 */
import type { Config } from "../config.ts";
import { json } from "./jsonResponse.ts";

const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

function isLoopbackName(host: string): boolean {
  return LOOPBACK_NAMES.has(host) || host.endsWith(".localhost") || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** `host[:port]` → lowercase host without the port. */
function hostname(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith("[")) return h.slice(0, h.indexOf("]") + 1);
  return h.replace(/:\d+$/, "");
}

/** Builds the guard; it returns a 403 Response for a refused request, else undefined. */
export function originGuard(config: Pick<Config, "host" | "publicUrl" | "allowedHosts" | "allowedOrigins">) {
  const hosts = new Set(config.allowedHosts);
  if (config.publicUrl) hosts.add(new URL(config.publicUrl).host.toLowerCase()).add(hostname(new URL(config.publicUrl).host));
  const boundToLoopback = isLoopbackName(config.host.toLowerCase());
  const origins = new Set(config.allowedOrigins.map((o) => o.replace(/\/+$/, "")));

  const verdicts = new Map<string, boolean>();
  /** Host values repeat on every request of a client: decide once per value (bounded). */
  function hostAllowedCached(hostHeader: string): boolean {
    let v = verdicts.get(hostHeader);
    if (v === undefined) {
      if (verdicts.size > 1000) verdicts.clear();
      verdicts.set(hostHeader, (v = hostAllowed(hostHeader)));
    }
    return v;
  }

  function hostAllowed(hostHeader: string): boolean {
    if (hosts.has("*")) return true;
    const h = hostHeader.toLowerCase();
    if (hosts.has(h) || hosts.has(hostname(h))) return true;
    if (config.allowedHosts.length === 0) return boundToLoopback ? isLoopbackName(hostname(h)) : true;
    return false;
  }

  return function guard(request: Request): Response | undefined {
    const host = request.headers.get("host") ?? new URL(request.url).host;
    if (!hostAllowedCached(host)) {
      return json({ jsonrpc: "2.0", id: null, error: { code: -32600, message: `Forbidden: Host "${host}" is not allowed (set DZX_ALLOWED_HOSTS)` } }, 403);
    }
    const origin = request.headers.get("origin");
    if (!origin || origins.has("*") || origins.has(origin.toLowerCase())) return undefined;
    let originHost: string;
    try {
      originHost = new URL(origin).host.toLowerCase();
    } catch {
      return json({ jsonrpc: "2.0", id: null, error: { code: -32600, message: `Forbidden: malformed Origin "${origin}"` } }, 403);
    }
    if (originHost === host.toLowerCase() || (isLoopbackName(hostname(originHost)) && isLoopbackName(hostname(host)))) return undefined;
    return json({ jsonrpc: "2.0", id: null, error: { code: -32600, message: `Forbidden: Origin "${origin}" is not allowed (set DZX_ALLOWED_ORIGINS)` } }, 403);
  };
}
