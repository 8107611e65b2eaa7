/**
 * The egress policy: which addresses sandboxed fetch may reach.
 */
import { expect, setDefaultTimeout, test } from "bun:test";
import { isBlockedAddress, refuseAddresses, refuseUrl } from "../../src/sandbox/egressPolicy.ts";

// per file: bun applies the preload's default to the first file only
setDefaultTimeout(60_000);

const none = { allowHosts: [], denyHosts: [], allowPrivateHosts: [] };

test("loopback, private, link-local, CGNAT, multicast and reserved IPv4 are refused", () => {
  for (const ip of ["127.0.0.1", "127.9.9.9", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255", "198.18.0.1"]) {
    expect({ ip, blocked: isBlockedAddress(ip) }).toEqual({ ip, blocked: true });
  }
});

test("public IPv4 passes", () => {
  for (const ip of ["8.8.8.8", "1.1.1.1", "172.32.0.1", "93.184.216.34"]) expect({ ip, blocked: isBlockedAddress(ip) }).toEqual({ ip, blocked: false });
});

test("IPv6 loopback, unspecified, link-local, ULA (incl. metadata), multicast, v4-mapped and NAT64 of private are refused", () => {
  for (const ip of ["::1", "::", "fe80::1", "fd00:ec2::254", "fc00::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1", "2001:db8::1", "[::1]"]) {
    expect({ ip, blocked: isBlockedAddress(ip) }).toEqual({ ip, blocked: true });
  }
  for (const ip of ["2606:4700:4700::1111", "::ffff:8.8.8.8"]) expect({ ip, blocked: isBlockedAddress(ip) }).toEqual({ ip, blocked: false });
});

test("non-http schemes and credentials in URLs are refused", () => {
  expect(refuseUrl(new URL("file:///etc/passwd"), none)).toContain("only http and https");
  expect(refuseUrl(new URL("data:text/plain,hi"), none)).toContain("only http and https");
  expect(refuseUrl(new URL("https://u:p@example.com/"), none)).toContain("credentials");
  expect(refuseUrl(new URL("https://example.com/"), none)).toBeNull();
});

test("org allow and deny lists", () => {
  const rules = { allowHosts: ["*.example.com"], denyHosts: ["bad.example.com"], allowPrivateHosts: ["internal.test"] };
  expect(refuseUrl(new URL("https://api.example.com/"), rules)).toBeNull();
  expect(refuseUrl(new URL("https://bad.example.com/"), rules)).toContain("denied");
  expect(refuseUrl(new URL("https://other.org/"), rules)).toContain("allowlist");
  expect(refuseAddresses("internal.test", ["10.0.0.5"], rules)).toBeNull();
  expect(refuseAddresses("api.example.com", ["8.8.8.8", "10.0.0.5"], rules)).toContain("10.0.0.5");
});
