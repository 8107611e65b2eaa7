/**
 * A local HTTP server that tools fetch and that holds each request until the test
 * opens its gate: a tool waits there, mid-call, for as long as the test needs, and
 * the test knows when the tool has reached it. Tools reach it through the org's
 * `egress.allowPrivateHosts: ["127.0.0.1"]`.
 */

/** Named gates on one local server. */
export interface Gates {
  /** The URL a tool fetches to wait at gate `name`. */
  url(name: string): string;
  /** Resolves once a request waits at gate `name`. */
  reached(name: string): Promise<void>;
  /** Whether a request waits at gate `name` now. */
  waiting(name: string): boolean;
  /** Lets the request at gate `name` go on (now, or as soon as it comes). */
  open(name: string): void;
  stop(): void;
}

/** Starts a gate server on a free port of 127.0.0.1. */
export function startGates(): Gates {
  const held = new Map<string, () => void>();
  const opened = new Set<string>();
  const arrivals = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  const arrival = (name: string) => {
    let a = arrivals.get(name);
    if (!a) {
      const { promise, resolve } = Promise.withResolvers<void>();
      arrivals.set(name, (a = { promise, resolve }));
    }
    return a;
  };
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    // a request is held for as long as the test needs
    idleTimeout: 0,
    fetch(request) {
      const name = new URL(request.url).searchParams.get("name") ?? "";
      arrival(name).resolve();
      if (opened.has(name)) return new Response(`open ${name}`);
      return new Promise<Response>((resolve) => held.set(name, () => resolve(new Response(`open ${name}`))));
    },
  });
  return {
    url: (name) => `http://127.0.0.1:${server.port}/gate?name=${encodeURIComponent(name)}`,
    reached: (name) => arrival(name).promise,
    waiting: (name) => held.has(name),
    open(name) {
      opened.add(name);
      const release = held.get(name);
      held.delete(name);
      release?.();
    },
    stop: () => void server.stop(true),
  };
}
