/**
 * `dzx dev <dir>`: serves a folder until Ctrl-C or SIGTERM (src/dev/devServer.ts).
 */
import { loadConfig } from "../config.ts";
import { startDev } from "../dev/devServer.ts";
import { FolderError } from "../dev/manifest.ts";
import { CliError } from "./flags.ts";

/** Runs the dev server; resolves when it has stopped. */
export async function devCommand(dir: string | undefined): Promise<void> {
  if (!dir) throw new CliError("Usage: dzx dev <dir>   (a folder with mcp.json; dzx init <dir> writes one)");
  const say = (line: string) => process.stderr.write(`${line}\n`);
  let dev;
  try {
    dev = await startDev(dir, loadConfig(), say);
  } catch (e) {
    if (e instanceof FolderError) throw new CliError(e.message);
    throw e;
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      say(`dzx dev: ${signal}, stopping`);
      void dev.stop().then(resolve);
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
}
