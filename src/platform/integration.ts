/**
 * Integrations (issue 17.2): the service a tool belongs to (`slack`, `google_sheets`). Tools of one
 * integration share its connections, and all attachments under one alias on a server share one.
 */
import { Type } from "@sinclair/typebox";
import { SLUG_PATTERN } from "./slug.ts";

/** An integration's name: the slug grammar, since it becomes the default alias in `<alias>__<slug>` names. */
export const IntegrationField = Type.String({
  pattern: SLUG_PATTERN,
  description: "The service, e.g. slack: a lowercase letter, then up to 63 lowercase letters, digits, _ or - (no __)",
  errorMessage: `an integration is a lowercase letter, then up to 63 lowercase letters, digits, _ or -; "__" is reserved`,
});

/** How a message names an integration, or its absence. */
export function integrationLabel(integration: string | null): string {
  return integration ? `integration "${integration}"` : "no integration";
}
