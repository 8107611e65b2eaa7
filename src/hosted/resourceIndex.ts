/**
 * Which of a server's resources serves a URI: a resource whose uri is the URI itself
 * first, else the first template (in the server's order) the URI is an expansion of.
 * A trigger's events resource (`trigger://<name>/events`) is listed after them and
 * served by the trigger. Templates are parsed once per definition.
 */
import type { McpResource, McpResourceTemplate } from "../mcp/catalog.ts";
import { isUriTemplate, parseUriTemplate, type UriTemplate } from "../uriTemplate.ts";
import type { ResourceRow } from "./definition.ts";
import type { PublishedTrigger } from "./publishedTool.ts";

/** A resource and the variables the URI gave it. */
export interface ResourceMatch {
  resource: ResourceRow;
  variables: Record<string, string>;
}

/** A server's resources, split into plain ones and templates. */
export class ResourceIndex {
  readonly listing: McpResource[] = [];
  readonly templateListing: McpResourceTemplate[] = [];
  private readonly plain = new Map<string, ResourceRow>();
  private readonly templates: { resource: ResourceRow; template: UriTemplate }[] = [];
  private readonly triggers = new Map<string, PublishedTrigger>();

  constructor(rows: ResourceRow[], triggers: PublishedTrigger[] = []) {
    for (const r of rows) {
      const shown = { name: r.slug, title: r.name, ...(r.description ? { description: r.description } : {}), ...(r.mimeType ? { mimeType: r.mimeType } : {}) };
      if (!isUriTemplate(r.uri)) {
        this.plain.set(r.uri, r);
        this.listing.push({ uri: r.uri, ...shown });
        continue;
      }
      // checked when written; a row that no longer parses (an older rule) is left out rather than served wrongly
      let template: UriTemplate;
      try {
        template = parseUriTemplate(r.uri);
      } catch {
        continue;
      }
      this.templates.push({ resource: r, template });
      this.templateListing.push({ uriTemplate: r.uri, ...shown });
    }
    for (const t of triggers) {
      // a stored resource of the same uri was there first
      if (this.plain.has(t.uri) || this.triggers.has(t.uri)) continue;
      this.triggers.set(t.uri, t);
      this.listing.push(t.listing);
    }
  }

  /** The trigger whose events `uri` names, or undefined. */
  trigger(uri: string): PublishedTrigger | undefined {
    return this.plain.has(uri) ? undefined : this.triggers.get(uri);
  }

  /** The resource serving `uri`, or undefined. */
  resolve(uri: string): ResourceMatch | undefined {
    const plain = this.plain.get(uri);
    if (plain) return { resource: plain, variables: {} };
    for (const { resource, template } of this.templates) {
      const variables = template.match(uri);
      if (variables) return { resource, variables };
    }
    return undefined;
  }

  /** The template resource whose uri is exactly `uriTemplate` (completion/complete's ref/resource), with its variable names. */
  template(uriTemplate: string): { resource: ResourceRow; variables: string[] } | undefined {
    const t = this.templates.find((x) => x.resource.uri === uriTemplate);
    return t && { resource: t.resource, variables: t.template.variables };
  }

  /** Every template resource. */
  get templateResources(): ResourceRow[] {
    return this.templates.map((t) => t.resource);
  }
}
