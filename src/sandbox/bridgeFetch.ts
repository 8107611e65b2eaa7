/**
 * The sandbox's only way to the network: fetch with the egress policy checked on
 * every hop (DNS resolved and every address checked before connecting, redirects
 * followed by hand), and capped response bodies.
 */
import { lookup } from "node:dns/promises";
import { readBounded } from "../boundedBody.ts";
import { isIP } from "node:net";
import { refuseAddresses, refuseUrl } from "./egressPolicy.ts";
import type { EgressRules } from "./protocol.ts";

/** What the sandboxed code passes to fetch (strings only cross the boundary). */
export interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** What the sandboxed code gets back. */
export interface FetchResult {
  url: string;
  status: number;
  statusText: string;
  headers: [string, string][];
  body: string;
}

/** A refusal or failure the tool sees as a TypeError-like message. */
export class EgressError extends Error {}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_HOPS = 5;

/** Performs one policed fetch. */
export async function policedFetch(input: string, init: FetchInit, rules: EgressRules, bodyCap: number, signal: AbortSignal): Promise<FetchResult> {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new EgressError(`Invalid URL: ${String(input).slice(0, 200)}`);
  }
  let method = (init.method ?? "GET").toUpperCase();
  let body = init.body;
  for (let hop = 0; hop <= MAX_HOPS; hop++) {
    const refused = refuseUrl(url, rules);
    if (refused) throw new EgressError(`fetch refused: ${refused}`);
    const host = url.hostname.replace(/^\[|\]$/g, "");
    let addresses: string[];
    if (isIP(host)) addresses = [host];
    else {
      try {
        addresses = (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
      } catch {
        throw new EgressError(`fetch failed: cannot resolve ${host}`);
      }
    }
    const blocked = refuseAddresses(host, addresses, rules);
    if (blocked) throw new EgressError(`fetch refused: ${blocked}`);
    let res: Response;
    try {
      res = await fetch(url, { method, headers: init.headers, body: method === "GET" || method === "HEAD" ? undefined : body, redirect: "manual", signal });
    } catch (err) {
      if (signal.aborted) throw new EgressError("fetch aborted: the call ended");
      throw new EgressError(`fetch failed: ${(err as Error).message}`);
    }
    const location = res.headers.get("location");
    if (REDIRECTS.has(res.status) && location) {
      await res.body?.cancel().catch(() => {});
      url = new URL(location, url);
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === "POST")) {
        method = "GET";
        body = undefined;
      }
      continue;
    }
    return { url: url.toString(), status: res.status, statusText: res.statusText, headers: [...res.headers.entries()], body: await readBounded(res.body, bodyCap, () => {
      throw new EgressError(`fetch response body exceeds the ${bodyCap}-byte limit`);
    }) };
  }
  throw new EgressError(`fetch failed: more than ${MAX_HOPS} redirects`);
}
