/**
 * `dzx orgs …`: list orgs and set their limits (rate, caps, retention).
 */
import { Value } from "@sinclair/typebox/value";
import type { OrgLimits } from "../../db/schema.ts";
import { OrgLimitsSchema } from "../platform/limits.ts";
import type { Database } from "../database/index.ts";
import { ensureOrg, listOrgs, setOrgLimits } from "../platform/org.ts";
import { CliError, type Flags } from "./flags.ts";

/** Runs one `orgs` subcommand and returns what to print. */
export async function orgsCommand(database: Database, sub: string | undefined, flags: Flags): Promise<string> {
  switch (sub) {
    case "list": {
      const orgs = await listOrgs(database.db);
      if (flags.bool("json")) return JSON.stringify(orgs);
      return orgs.map((o) => `${o.id}  ${o.name}  ${JSON.stringify(o.limits)}`).join("\n") || "(no orgs)";
    }
    case "create": {
      const name = flags.string("org") ?? flags.positional(0);
      if (!name) throw new CliError("Usage: dzx orgs create <name>");
      const org = await ensureOrg(database.db, name);
      return flags.bool("json") ? JSON.stringify({ orgId: org.id, created: org.created }) : `${org.created ? "Created" : "Exists"}: ${name} (${org.id})`;
    }
    case "limits": {
      const name = flags.string("org") ?? "default";
      const raw = flags.string("set");
      const org = (await listOrgs(database.db)).find((o) => o.name === name);
      if (!org) throw new CliError(`No org named "${name}"`);
      if (!raw) return JSON.stringify(org.limits);
      let limits: OrgLimits;
      try {
        limits = JSON.parse(raw);
      } catch {
        throw new CliError(`--set must be JSON, e.g. '{"caps":{"tools":50},"rate":{"perMinute":600}}'`);
      }
      const bad = Value.Errors(OrgLimitsSchema, limits).First();
      if (bad) throw new CliError(`--set: ${bad.path || "/"} ${bad.message}`);
      await setOrgLimits(database.db, org.id, limits);
      return JSON.stringify(limits);
    }
    default:
      throw new CliError("Usage: dzx orgs list [--json] | dzx orgs create <name> | dzx orgs limits --org <name> [--set JSON]");
  }
}
