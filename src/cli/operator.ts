/**
 * The operator commands (`keys`, `orgs`) as one entry point, so the CLI runs them the same way
 * on the database it opened and, through the admin socket, inside a running server (src/admin/).
 */
import type { Database } from "../database/index.ts";
import { CliError, Flags } from "./flags.ts";
import { keysCommand } from "./keys.ts";
import { orgsCommand } from "./orgs.ts";

/** The commands a running server runs for the CLI. */
export const OPERATOR_COMMANDS = ["keys", "orgs"] as const;

/** One of OPERATOR_COMMANDS. */
export type OperatorCommand = (typeof OPERATOR_COMMANDS)[number];

/** Whether `name` is an operator command. */
export function isOperatorCommand(name: unknown): name is OperatorCommand {
  return (OPERATOR_COMMANDS as readonly unknown[]).includes(name);
}

/** Runs `dzx <command> <sub> <args…>` against a database and returns what to print. */
export function runOperatorCommand(database: Database, command: OperatorCommand, sub: string | undefined, args: string[]): Promise<string> {
  const flags = new Flags(args);
  switch (command) {
    case "keys":
      return keysCommand(database, sub, flags);
    case "orgs":
      return orgsCommand(database, sub, flags);
    default:
      throw new CliError(`Unknown command "${command}".`);
  }
}
