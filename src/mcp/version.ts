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

/** What is wrong with initialize's params, or undefined: the version is required, the two objects must be objects. */
export function initializeProblem(params: Record<string, unknown> | undefined): string | undefined {
  if (typeof params?.protocolVersion !== "string") return `Invalid params: initialize needs "protocolVersion" (a string such as "${LATEST_VERSION}")`;
  for (const key of ["capabilities", "clientInfo"]) {
    const v = params[key];
    if (v !== undefined && (typeof v !== "object" || v === null || Array.isArray(v))) return `Invalid params: initialize's "${key}" must be an object`;
  }
  return undefined;
}
