/**
 * The public base URL used in endpoint links: DZX_PUBLIC_URL when set, else the request's origin.
 */
import type { Config } from "../config.ts";

/** Base URL without a trailing slash. */
export function requestBaseUrl(config: Pick<Config, "publicUrl">, request: Request): string {
  if (config.publicUrl) return config.publicUrl;
  const url = new URL(request.url);
  const proto = request.headers.get("x-forwarded-proto") ?? url.protocol.replace(":", "");
  return `${proto}://${url.host}`;
}
