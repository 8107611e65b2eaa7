/**
 * `dzx deploy <dir> --server <slug> [--url U] [--key K]`: pushes a dev folder to a
 * dzx platform through its management REST API (src/deploy/deploy.ts).
 */
import { DeployRefused, deploy } from "../deploy/deploy.ts";
import { PlatformError } from "../deploy/platformClient.ts";
import { FolderError } from "../dev/manifest.ts";
import { SLUG_PATTERN } from "../platform/slug.ts";
import { CliError, Flags } from "./flags.ts";

const USAGE = "Usage: dzx deploy <dir> --server <slug> [--url http://127.0.0.1:3333] [--key dwz_live_…]   (DZX_URL, DZX_API_KEY)";

/** Runs one deploy; every failure it expects becomes a CliError (one message, exit 2). */
export async function deployCommand(argv: string[]): Promise<void> {
  const flags = new Flags(argv);
  const dir = flags.positional(0);
  const server = flags.string("server");
  if (!dir || !server) throw new CliError(USAGE);
  if (!new RegExp(SLUG_PATTERN).test(server)) {
    throw new CliError(`--server "${server}" is not a server slug: a lowercase letter, then up to 63 lowercase letters, digits, "_" or "-"`);
  }
  const url = (flags.string("url") ?? process.env.DZX_URL ?? "http://127.0.0.1:3333").replace(/\/+$/, "");
  const key = flags.string("key") ?? process.env.DZX_API_KEY;
  if (!key) throw new CliError(`dzx deploy needs an API key of the org: --key dwz_live_… or DZX_API_KEY\n${USAGE}`);
  try {
    await deploy({ dir, server, url, key, say: (line) => console.log(line) });
  } catch (e) {
    if (e instanceof FolderError || e instanceof PlatformError || e instanceof DeployRefused) throw new CliError(e.message);
    throw e;
  }
}
