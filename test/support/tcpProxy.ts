/**
 * A TCP proxy on loopback that a test can freeze: bytes stop flowing both ways (held,
 * not dropped) until it thaws — a database that stops answering, without touching
 * the database server other tests share.
 */
import type { Socket, TCPSocketListener } from "bun";

/** A running proxy to `target`. */
export interface TcpProxy {
  port: number;
  /** Holds every byte from now on. */
  freeze(): void;
  /** Delivers what was held and flows again. */
  thaw(): void;
  close(): void;
}

interface Pair {
  client: Socket<Pair>;
  upstream?: Socket<undefined>;
  /** Bytes waiting for each side while the upstream connects or the proxy is frozen. */
  toUpstream: Uint8Array[];
  toClient: Uint8Array[];
}

/** Starts a proxy on 127.0.0.1 (a free port) forwarding to `host:port`. */
export function tcpProxy(host: string, port: number): TcpProxy {
  let frozen = false;
  const pairs = new Set<Pair>();
  const flush = (p: Pair) => {
    if (frozen) return;
    if (p.upstream) for (const b of p.toUpstream.splice(0)) p.upstream.write(b);
    for (const b of p.toClient.splice(0)) p.client.write(b);
  };
  const listener: TCPSocketListener<Pair> = Bun.listen<Pair>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        const p: Pair = { client, toUpstream: [], toClient: [] };
        client.data = p;
        pairs.add(p);
        void Bun.connect({
          hostname: host,
          port,
          socket: {
            open(up) {
              p.upstream = up;
              flush(p);
            },
            data(_up, chunk) {
              p.toClient.push(new Uint8Array(chunk));
              flush(p);
            },
            close() {
              client.end();
            },
            error() {
              client.end();
            },
          },
        }).catch(() => client.end());
      },
      data(client, chunk) {
        client.data.toUpstream.push(new Uint8Array(chunk));
        flush(client.data);
      },
      close(client) {
        client.data.upstream?.end();
        pairs.delete(client.data);
      },
    },
  });
  return {
    port: listener.port,
    freeze: () => void (frozen = true),
    thaw: () => {
      frozen = false;
      for (const p of pairs) flush(p);
    },
    close: () => {
      for (const p of pairs) (p.client.end(), p.upstream?.end());
      listener.stop(true);
    },
  };
}
