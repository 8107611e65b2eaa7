/**
 * The admin channel, CLI side (issue 15.2): while a server holds the embedded database, the
 * operator commands go to it over its Unix socket (adminSocket.ts) instead of failing on the lock.
 */
import { existsSync } from "node:fs";
import { CliError } from "../cli/flags.ts";
import { adminSocketPath, COMMAND_PATH, type AdminAnswer, type AdminRequest } from "./adminSocket.ts";

/** How long a running server may take over one operator command. */
const ANSWER_TIMEOUT_MS = 60_000;

/** Socket errors that mean no server listens there (none running, or a stale socket file). */
const NOBODY_LISTENS = new Set(["ENOENT", "ECONNREFUSED", "ConnectionRefused", "FailedToOpenSocket"]);

/**
 * Sends a command to the server running on `dataDir`. Resolves with the text to print, or
 * undefined when no server answers there (then the CLI opens the database itself). Throws what
 * the command threw in the server: a CliError (exit 2) or an Error (exit 1).
 */
export async function askRunningServer(dataDir: string, request: AdminRequest): Promise<string | undefined> {
  const path = adminSocketPath(dataDir);
  if (!existsSync(path)) return undefined;
  let response: Response;
  try {
    response = await fetch(`http://localhost${COMMAND_PATH}`, {
      unix: path,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
    });
  } catch (err) {
    if (NOBODY_LISTENS.has((err as { code?: string }).code ?? "")) return undefined;
    throw new Error(`the dzx server running on ${dataDir} did not answer (${(err as Error).message})`);
  }
  const body = (await response.json().catch(() => undefined)) as AdminAnswer | undefined;
  if (!response.ok || !body) throw new Error(`the dzx server running on ${dataDir} could not run the command (HTTP ${response.status})`);
  if ("output" in body) return body.output;
  throw body.exitCode === 2 ? new CliError(body.error) : new Error(body.error.replace(/^unexpected error: /, ""));
}
