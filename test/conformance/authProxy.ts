/**
 * The conformance suite sends no Authorization header, and a hosted server needs
 * its bearer token: this proxy adds it and forwards everything else unchanged —
 * Host and Origin included, so the DNS-rebinding verdict stays dzx's own — and
 * streams the answer back (SSE too).
 */
export interface AuthProxy {
  url: string;
  stop(): void;
}

const HOP_BY_HOP = ["connection", "keep-alive", "transfer-encoding", "upgrade", "content-length"];

/** Listens on 127.0.0.1 and forwards to `target` (an origin, e.g. http://127.0.0.1:4000) with `token`. */
export function startAuthProxy(target: string, token: string): AuthProxy {
  const upstream = new URL(target);
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const headers = new Headers(req.headers);
      for (const h of HOP_BY_HOP) headers.delete(h);
      headers.set("authorization", `Bearer ${token}`);
      // Bun's fetch sends the Host header given here, so dzx judges what the suite sent
      if (req.headers.get("host")) headers.set("host", req.headers.get("host")!);
      const res = await fetch(`${upstream.origin}${url.pathname}${url.search}`, {
        method: req.method,
        headers,
        body: req.method === "GET" || req.method === "HEAD" ? undefined : req.body,
        signal: req.signal,
        redirect: "manual",
        decompress: false,
      } as RequestInit);
      const out = new Headers(res.headers);
      for (const h of HOP_BY_HOP) out.delete(h);
      return new Response(res.body, { status: res.status, headers: out });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) };
}
