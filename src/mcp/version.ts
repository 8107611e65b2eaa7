/**
 * Protocol version negotiation for the initialize lane.
 */

/** Versions we speak, newest first (every one the official SDK v1 supports). */
export const SUPPORTED_VERSIONS = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "2024-10-07"] as const;

/** The newest version we speak. */
export const LATEST_VERSION = SUPPORTED_VERSIONS[0];

/** The client's version when we speak it, else our latest (the client then decides). */
export function negotiate(requested: unknown): string {
  return typeof requested === "string" && (SUPPORTED_VERSIONS as readonly string[]).includes(requested) ? requested : LATEST_VERSION;
}

/** Whether an `MCP-Protocol-Version` header value is one we speak. */
export function isSupported(version: string): boolean {
  return (SUPPORTED_VERSIONS as readonly string[]).includes(version);
}
