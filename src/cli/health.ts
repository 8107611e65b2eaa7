/**
 * `dzx health`: asks the dzx running on this machine whether it is ready, for a
 * container HEALTHCHECK (the image has no curl and no bun). It asks /ready, not
 * /health: /ready also fails when the database is stuck (SPEC "Operations"),
 * which is what a restart can cure.
 */
import { loadConfig } from "../config.ts";

/** How long to wait for the answer; a HEALTHCHECK's own timeout is longer. */
const HEALTH_TIMEOUT_MS = 3000;

/** The address to reach a server bound to `host` from this machine (a wildcard bind answers on loopback). */
function localUrl(host: string, port: number): string {
  const reachable = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${reachable.includes(":") ? `[${reachable}]` : reachable}:${port}/ready`;
}

/** Checks readiness; resolves with the exit code (0 ready, 1 not) and the line to print. */
export async function healthCommand(env: Record<string, string | undefined> = process.env): Promise<{ code: number; line: string }> {
  let url = "";
  try {
    const config = loadConfig(env);
    url = localUrl(config.host, config.port);
    const res = await fetch(url, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    const body = (await res.json().catch(() => ({}))) as { status?: string; database?: string; message?: string };
    if (res.status === 200) return { code: 0, line: `dzx is ready at ${url} (database: ${body.database ?? "?"})` };
    return { code: 1, line: `dzx is not ready at ${url}: ${res.status} ${body.message ?? body.status ?? ""}`.trimEnd() };
  } catch (e) {
    const err = e as Error & { code?: string };
    const why = err.name === "TimeoutError" ? `no answer within ${HEALTH_TIMEOUT_MS} ms` : err.code === "ECONNREFUSED" ? "connection refused (is dzx running?)" : err.message;
    return { code: 1, line: url ? `dzx is not reachable at ${url}: ${why}` : `dzx health: ${why}` };
  }
}
