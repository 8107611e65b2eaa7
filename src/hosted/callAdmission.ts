/**
 * What a tool call must pass before the sandbox is touched: its arguments checked
 * against the published schema (defaults, presets, enforced keys applied) and every
 * secret the tool declares resolved — from the attachment's connection first (issue 17.2),
 * then the end user's value, then the org's.
 * A hosted call and `dwizi.tools.test` both come through here, so a test refuses
 * exactly what a hosted call refuses, with the same message (issue 15, point 5).
 */
import type { Db } from "../database/index.ts";
import { operationHint } from "../management/hint.ts";
import { connectionForCall, type OpenConnection } from "../platform/connection.ts";
import { resolveSecrets } from "../platform/secret.ts";
import type { SecretBox } from "../platform/secretBox.ts";
import type { PublishedTool } from "./publishedTool.ts";

/** Where a call's secrets are read from. */
export interface SecretSource {
  db: Db;
  box: SecretBox;
  /**
   * The end-user setup page's URL for these missing secret names, and how long it lasts
   * (issue 17.7); absent where there is no server or no end user to set them for.
   */
  setupLink?(names: string[]): { url: string; lifetime: string };
}

/** Whose call it is: the org's, and the end user's when one is known. */
export interface CallOwner {
  orgId: string;
  endUserId: string | null;
}

/** Why a call was refused; `message` is what the caller is told. */
export type Refusal = { kind: "arguments"; message: string } | { kind: "secret"; secret: string; message: string };

/** A call let through (input and secrets for the sandbox), or refused (with what the log keeps as its input). */
export type Admission =
  | { admitted: true; input: Record<string, unknown>; secrets: Record<string, string>; secretValues?: string[] }
  | { admitted: false; refusal: Refusal; input: unknown };

/**
 * Secrets the tool declares, by their declared names; or every missing one, by its stored name.
 * A stored name is looked up in the call's connection first, then among the secrets.
 */
async function secretsFor(source: SecretSource, owner: CallOwner, t: PublishedTool): Promise<Record<string, string> | { missing: string[]; connection?: OpenConnection }> {
  const { tool, attachment } = t.entry;
  const declared = tool.secrets;
  if (!declared.length) return {};
  const bindings = attachment.secretBindings ?? {};
  const stored = declared.map((n) => bindings[n] ?? n);
  const call = { connectionId: attachment.connectionId, integration: tool.integration, endUserId: owner.endUserId };
  const connection = await connectionForCall(source.db, source.box, owner.orgId, call);
  const fromConnection = connection?.values ?? {};
  const rest = stored.filter((n) => fromConnection[n] === undefined);
  const values = { ...(await resolveSecrets(source.db, source.box, owner.orgId, rest, owner.endUserId)), ...fromConnection };
  const out: Record<string, string> = {};
  const missing = new Set<string>();
  for (let i = 0; i < declared.length; i++) {
    const v = values[stored[i]];
    if (v === undefined) missing.add(stored[i]);
    else out[declared[i]] = v;
  }
  return missing.size ? { missing: [...missing], connection } : out;
}

/**
 * Names the first missing secret; when the call read a connection, also how to add it there; on an
 * end user's server, also the setup page where that end user enters all of them.
 */
function missingSecretMessage(source: SecretSource, missing: string[], endUserId: string | null, connection?: OpenConnection): string {
  const name = missing[0];
  const hint = operationHint("dwizi.secrets.set", endUserId ? { name, value: "…", endUserId } : { name, value: "…" });
  let base = `Missing secret "${name}"${endUserId ? ` for end user "${endUserId}"` : ""}: the tool needs it. Set it with the management operation ${hint}, then call again.`;
  if (connection) {
    const add = operationHint("dwizi.connections.update", { id: connection.id, patch: { values: { [name]: "…" } } });
    base += ` Or add it to the tool's connection "${connection.name}" with ${add}.`;
  }
  const link = endUserId ? source.setupLink?.(missing) : undefined;
  // the hint first, as `dwizi.tools.test` words it (no server there, so no link)
  return link ? `${base} Or the end user enters it at ${link.url} (the link is valid for ${link.lifetime}).` : base;
}

/** Checks a call's arguments, then resolves its secrets; refuses at the first problem. */
export async function admitCall(source: SecretSource, owner: CallOwner, t: PublishedTool, args: Record<string, unknown>): Promise<Admission> {
  const prepared = t.prepare(args);
  if ("error" in prepared) return { admitted: false, refusal: { kind: "arguments", message: prepared.error }, input: args };
  if (!t.entry.tool.secrets.length) return { admitted: true, input: prepared.input, secrets: {} };
  const secrets = await secretsFor(source, owner, t);
  if ("missing" in secrets) {
    const { missing, connection } = secrets as { missing: string[]; connection?: OpenConnection };
    const message = missingSecretMessage(source, missing, owner.endUserId, connection);
    return { admitted: false, refusal: { kind: "secret", secret: missing[0], message }, input: prepared.input };
  }
  return { admitted: true, input: prepared.input, secrets, secretValues: Object.values(secrets) };
}
