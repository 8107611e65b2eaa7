#!/usr/bin/env bun
/**
 * CLI entry: start | dev | init | deploy | keys | orgs | migrate | health | version | help.
 */
import { askRunningServer } from "./admin/adminClient.ts";
import { deployCommand } from "./cli/deploy.ts";
import { devCommand } from "./cli/dev.ts";
import { CliError } from "./cli/flags.ts";
import { healthCommand } from "./cli/health.ts";
import { initCommand } from "./cli/init.ts";
import { runOperatorCommand, type OperatorCommand } from "./cli/operator.ts";
import { versionLine } from "./cli/version.ts";
import { ConfigError, ensureDataDir, loadConfig, type Config } from "./config.ts";
import { openDatabase } from "./database/index.ts";
import { DataDirLockedError } from "./database/lock.ts";
import { startServer } from "./server.ts";
import { onStopSignals } from "./stopSignals.ts";

const HELP = `dzx — self-hosted MCP platform

Usage:
  dzx start                      serve the platform (PORT, DZX_HOST, DATABASE_URL, …)
  dzx keys create --org <name> --scopes <a,b|all> [--name N] [--rate burst=N,perMinute=N,perHour=N] [--workspace <slug|id>] [--json]
  dzx keys list --org <name> [--json]
  dzx keys revoke <keyId> --org <name>
  dzx orgs list [--json]
  dzx orgs create <name>
  dzx orgs limits --org <name> [--set '{"caps":{"tools":50},"rate":{"perMinute":600}}']
  dzx migrate                    apply database migrations and exit
  dzx health                     exit 0 if the dzx on DZX_HOST:PORT is ready (GET /ready), else 1
  dzx version                    print the version (also dzx --version)
  dzx init <dir>                 write a starter folder (mcp.json, a tool, a resource, a prompt, context.ts)
  dzx dev <dir>                  serve a folder as an MCP server at /mcp/<name>, reloading on change
  dzx deploy <dir> --server <slug> [--url U] [--key K]   push a folder's tools, resources and prompts to a platform (DZX_URL, DZX_API_KEY)
  dzx help

From a checkout: npm run dzx -- <command>, or bun run dzx <command>. Configuration comes from the environment (see README).`;

async function withDatabase<T>(fn: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>, config = checkedConfig()): Promise<T> {
  const database = await openDatabase(config);
  try {
    return await fn(database);
  } finally {
    await database.close();
  }
}

function checkedConfig(): Config {
  const config = loadConfig();
  ensureDataDir(config);
  return config;
}

/** `keys`/`orgs`: through the running server's admin socket while it holds the embedded database, else on the database itself. */
async function operatorCommand(command: OperatorCommand, sub: string | undefined, args: string[]): Promise<string> {
  const config = checkedConfig();
  const answered = config.databaseUrl ? undefined : await askRunningServer(config.dataDir, { command, sub, args });
  return answered ?? withDatabase((db) => runOperatorCommand(db, command, sub, args), config);
}

async function main(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  switch (command) {
    case "start":
    case undefined: {
      const running = await startServer(checkedConfig());
      // the first signal drains (SPEC "Operations"); the same signal again ends the process at once (stopSignals.ts)
      const shutdown = async (signal: string) => {
        running.services.logger.info("shutting down", { signal, drainMs: running.services.config.drainMs });
        try {
          await running.stop();
        } catch (err) {
          running.services.logger.error("shutdown failed", { err });
          process.exit(1);
        }
        process.exit(0);
      };
      onStopSignals((signal) => void shutdown(signal));
      return -1; // keep running
    }
    case "keys":
    case "orgs":
      console.log(await operatorCommand(command, sub, rest));
      return 0;
    case "dev":
      await devCommand(sub);
      return 0;
    case "deploy":
      await deployCommand([sub, ...rest].filter((a): a is string => a !== undefined));
      return 0;
    case "init":
      console.log(initCommand(sub));
      return 0;
    case "migrate":
      await withDatabase(async () => {});
      console.log("Migrations applied.");
      return 0;
    case "health": {
      const { code, line } = await healthCommand();
      (code === 0 ? process.stdout : process.stderr).write(`${line}\n`);
      return code;
    }
    case "version":
    case "--version":
      console.log(versionLine());
      return 0;
    case "help":
    case "--help":
    case "-h":
      console.log(HELP);
      return 0;
    default:
      throw new CliError(`Unknown command "${command}".\n\n${HELP}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err) => {
    const known = err instanceof CliError || err instanceof ConfigError || err instanceof DataDirLockedError;
    process.stderr.write(`dzx: ${known ? err.message : `unexpected error: ${(err as Error)?.message ?? err}`}\n`);
    process.exit(known ? 2 : 1);
  },
);
