/**
 * How an attached tool is published on its server (seed 001 "Add Tool", seed 002
 * partials): its exposed name, title and description, the input schema with
 * enforced partial keys removed, and the argument pipeline run before the
 * sandbox is touched — defaults, presets, validation, enforced values.
 */
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020.js";
import type { McpResource, McpTool } from "../mcp/catalog.ts";
import { exposedName } from "../platform/slug.ts";
import { triggerUri } from "../platform/trigger.ts";
import type { Companion } from "./companion.ts";
import type { AttachedTool } from "./definition.ts";

const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false, useDefaults: false });

/** An attached tool ready to list and call. */
export interface PublishedTool {
  name: string;
  entry: AttachedTool;
  listing: McpTool;
  /** Client arguments → the tool's input, or the message of why they are not acceptable. */
  prepare(args: Record<string, unknown>): { input: Record<string, unknown> } | { error: string };
}

function withoutKeys(schema: Record<string, unknown>, keys: Set<string>): Record<string, unknown> {
  if (keys.size === 0) return schema;
  const props = { ...((schema.properties as Record<string, unknown>) ?? {}) };
  for (const k of keys) delete props[k];
  const out: Record<string, unknown> = { ...schema, properties: props };
  if (Array.isArray(schema.required)) out.required = (schema.required as string[]).filter((k) => !keys.has(k));
  return out;
}

/** What is wrong with arguments Ajv refused, naming the argument ("to" must be string). */
export function argumentProblem(errors: ValidateFunction["errors"]): string {
  const e = errors?.[0];
  if (!e) return "invalid arguments";
  const where = e.instancePath ? `"${e.instancePath.slice(1).replace(/\//g, ".")}"` : "arguments";
  const extra = e.keyword === "additionalProperties" ? ` ("${(e.params as { additionalProperty: string }).additionalProperty}")` : e.keyword === "enum" ? ` (${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)})` : "";
  return `${where} ${e.message ?? "is invalid"}${extra}`;
}

/** How a tool is shown: an attachment's own settings, or a companion's. */
interface Shown {
  name: string;
  title: string;
  description: string;
  /** The schema before enforced keys are removed. */
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown> | null;
}

/** Publishes one attachment. */
export function publishTool(entry: AttachedTool): PublishedTool {
  const { attachment: a, tool: t } = entry;
  return published(entry, {
    name: exposedName(a.alias, t.slug),
    title: a.displayName ?? t.name,
    description: a.description ?? t.description,
    inputSchema: t.inputSchema,
    outputSchema: t.outputSchema,
  });
}

/** A TRIGGER attachment as its server publishes it: a resource of its events, not a tool. */
export interface PublishedTrigger {
  uri: string;
  attachmentId: string;
  /** How its tool runs on each event (defaults, partials and secrets as for a call). */
  tool: PublishedTool;
  listing: McpResource;
}

/** Publishes a trigger as the resource `trigger://<exposed-name>/events`. */
export function publishTrigger(entry: AttachedTool): PublishedTrigger {
  const tool = publishTool(entry);
  const uri = triggerUri(tool.name);
  return {
    uri,
    attachmentId: entry.attachment.id,
    tool,
    listing: { uri, name: tool.name, title: `${tool.listing.title} events`, description: `Recent events of the ${tool.name} trigger, newest first.`, mimeType: "application/json" },
  };
}

/**
 * Publishes a companion: no required input (the options tool's own arguments pass
 * through, all optional), described by the property it lists.
 */
export function publishCompanion(c: Companion): PublishedTool {
  const t = c.entry.tool;
  const { required: _r, ...inputSchema } = t.inputSchema;
  return published(c.entry, {
    name: c.name,
    title: `Options for ${c.property}`,
    description: `Lists the values the "${c.property}" argument of ${c.of} accepts.${t.description ? ` ${t.description}` : ""}`,
    inputSchema: { type: "object", ...inputSchema },
    outputSchema: t.outputSchema,
  });
}

function published(entry: AttachedTool, shown: Shown): PublishedTool {
  const a = entry.attachment;
  const enforced: Record<string, unknown> = {};
  const presets: Record<string, unknown> = {};
  for (const p of entry.partials) {
    const locked = new Set(p.enforced);
    for (const [k, v] of Object.entries(p.values)) (locked.has(k) ? enforced : presets)[k] = v;
    for (const k of p.enforced) if (!(k in p.values)) enforced[k] = undefined;
  }
  const hidden = new Set(Object.keys(enforced));
  const inputSchema = withoutKeys(shown.inputSchema, hidden);
  const name = shown.name;
  const listing: McpTool = {
    name,
    title: shown.title,
    description: shown.description,
    inputSchema,
    ...(shown.outputSchema ? { outputSchema: shown.outputSchema } : {}),
  };
  let validate: ValidateFunction | undefined;
  return {
    name,
    entry,
    listing,
    prepare(args) {
      const input: Record<string, unknown> = { ...(a.inputDefaults ?? {}), ...presets };
      for (const [k, v] of Object.entries(args)) if (!hidden.has(k)) input[k] = v; // enforced keys: the client's value never counts
      validate ??= ajv.compile(inputSchema);
      if (!validate(input)) return { error: `Invalid arguments for ${name}: ${argumentProblem(validate.errors)}` };
      for (const [k, v] of Object.entries(enforced)) if (v !== undefined) input[k] = v;
      return { input };
    },
  };
}
