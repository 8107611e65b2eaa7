/**
 * Which addresses sandboxed fetch may reach: public unicast only by default.
 * Loopback, private, link-local (cloud metadata), CGNAT, multicast, reserved and
 * documentation ranges are refused, for IPv4 and IPv6 (including v4-mapped and NAT64).
 */
import { isIP } from "node:net";
import type { EgressRules } from "./protocol.ts";

const V4_BLOCKED: [number, number][] = [
  ["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16],
  ["172.16.0.0", 12], ["192.0.0.0", 24], ["192.0.2.0", 24], ["192.88.99.0", 24], ["192.168.0.0", 16],
  ["198.18.0.0", 15], ["198.51.100.0", 24], ["203.0.113.0", 24], ["224.0.0.0", 4], ["240.0.0.0", 4],
].map(([a, bits]) => [v4ToInt(a as string), bits as number]);

function v4ToInt(ip: string): number {
  return ip.split(".").reduce((n, part) => (n << 8) + Number(part), 0) >>> 0;
}

function v4Blocked(ip: string): boolean {
  const n = v4ToInt(ip);
  return V4_BLOCKED.some(([base, bits]) => bits === 0 || n >>> (32 - bits) === base >>> (32 - bits));
}

/** Expands an IPv6 address into eight 16-bit groups. */
function v6Groups(ip: string): number[] {
  let s = ip.split("%")[0].toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const n = v4ToInt(v4[1]);
    s = s.slice(0, -v4[1].length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = s.split("::");
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const fill = tail === undefined ? [] : Array(8 - h.length - t.length).fill("0");
  return [...h, ...fill, ...t].map((g) => parseInt(g || "0", 16));
}

function v6Blocked(ip: string): boolean {
  const g = v6Groups(ip);
  if (g.length !== 8 || g.some((x) => Number.isNaN(x))) return true;
  const embeddedV4 = () => `${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}`;
  if (g.slice(0, 7).every((x) => x === 0)) return true; // :: and ::1 (and the deprecated v4-compatible range)
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return v4Blocked(embeddedV4()); // ::ffff:a.b.c.d
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return v4Blocked(embeddedV4()); // NAT64
  if ((g[0] & 0xffc0) === 0xfe80 || (g[0] & 0xffc0) === 0xfec0) return true; // link-local, site-local
  if ((g[0] & 0xfe00) === 0xfc00) return true; // unique local (incl. fd00:ec2::254 metadata)
  if ((g[0] & 0xff00) === 0xff00) return true; // multicast
  if (g[0] === 0x2001 && g[1] === 0x0db8) return true; // documentation
  if (g[0] === 0x0100 && g.slice(1, 4).every((x) => x === 0)) return true; // discard
  if (g[0] === 0x2002) return v4Blocked(`${g[1] >> 8}.${g[1] & 255}.${g[2] >> 8}.${g[2] & 255}`); // 6to4
  return false;
}

/** Whether an IP literal is outside the public unicast space. */
export function isBlockedAddress(ip: string): boolean {
  const kind = isIP(ip.replace(/^\[|\]$/g, ""));
  if (kind === 4) return v4Blocked(ip);
  if (kind === 6) return v6Blocked(ip.replace(/^\[|\]$/g, ""));
  return true;
}

function hostMatches(host: string, patterns: string[]): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  return patterns.some((p) => {
    const q = p.toLowerCase();
    return q.startsWith("*.") ? h.endsWith(q.slice(1)) || h === q.slice(2) : h === q;
  });
}

/** Why a URL may not be fetched before resolving it, or null when it may proceed to DNS. */
export function refuseUrl(url: URL, rules: EgressRules): string | null {
  if (url.protocol !== "http:" && url.protocol !== "https:") return `only http and https URLs may be fetched (got ${url.protocol})`;
  if (url.username || url.password) return "URLs with credentials are refused";
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (hostMatches(host, rules.denyHosts)) return `host ${host} is denied by this org's egress policy`;
  if (rules.allowHosts.length && !hostMatches(host, rules.allowHosts)) return `host ${host} is not in this org's egress allowlist`;
  return null;
}

/** Why resolved addresses may not be reached, or null. Every address must be public. */
export function refuseAddresses(host: string, addresses: string[], rules: EgressRules): string | null {
  if (hostMatches(host, rules.allowPrivateHosts)) return null;
  const bad = addresses.find(isBlockedAddress);
  return bad ? `${host} resolves to ${bad}, a loopback, private, link-local or reserved address` : null;
}
