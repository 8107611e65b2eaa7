/**
 * The building blocks of bench/contextTools.ts: JSON Schema shorthands and the
 * sub-objects real APIs share (addresses, money, attendees, pagination, blocks).
 */

/** A JSON Schema, loosely. */
export type Schema = Record<string, unknown>;

/** One tool as dwizi.tools.create takes it. */
export interface BenchTool {
  name: string;
  description: string;
  inputSchema: Schema;
}

export const str = (description: string, extra: Schema = {}): Schema => ({ type: "string", description, ...extra });
export const int = (description: string, extra: Schema = {}): Schema => ({ type: "integer", description, ...extra });
export const bool = (description: string): Schema => ({ type: "boolean", description });
export const oneOf = (description: string, values: string[]): Schema => ({ type: "string", enum: values, description });
export const list = (description: string, items: Schema, extra: Schema = {}): Schema => ({ type: "array", description, items, ...extra });
export const obj = (properties: Record<string, Schema>, required: string[] = [], description?: string): Schema => ({
  type: "object",
  ...(description ? { description } : {}),
  properties,
  ...(required.length ? { required } : {}),
  additionalProperties: false,
});
export const tool = (name: string, description: string, properties: Record<string, Schema>, required: string[] = []): BenchTool => ({ name, description, inputSchema: obj(properties, required) });

export const when = (description: string) => str(description, { format: "date-time" });
export const email = (description: string) => str(description, { format: "email" });
export const id = (what: string) => str(`The ${what}'s id`);
export const page = {
  limit: int("Maximum number of results to return", { minimum: 1, maximum: 100, default: 25 }),
  cursor: str("Opaque cursor from the previous page's next_cursor"),
};
export const address = obj(
  {
    line1: str("Street address, first line"),
    line2: str("Apartment, suite or unit"),
    city: str("City or locality"),
    state: str("State, province or region"),
    postal_code: str("ZIP or postal code"),
    country: str("Two-letter ISO 3166-1 country code", { minLength: 2, maxLength: 2 }),
  },
  ["line1", "city", "country"],
  "Postal address",
);
export const money = obj({ amount: int("Amount in the currency's smallest unit (cents for USD)", { minimum: 0 }), currency: str("Three-letter ISO 4217 currency code, lowercase", { minLength: 3, maxLength: 3 }) }, ["amount", "currency"], "An amount of money");
export const metadata = { type: "object", description: "Up to 50 key-value pairs for your own use", additionalProperties: { type: "string", maxLength: 500 } };
export const person = obj({ email: email("Email address"), name: str("Display name") }, ["email"]);
export const attendee = obj({ email: email("Attendee's email"), optional: bool("Whether attendance is optional"), response_status: oneOf("Current response", ["needsAction", "declined", "tentative", "accepted"]) }, ["email"]);
export const reminder = obj({ method: oneOf("How to remind", ["email", "popup"]), minutes: int("Minutes before the start", { minimum: 0, maximum: 40320 }) }, ["method", "minutes"]);
export const attachment = obj({ filename: str("File name shown to the recipient"), content_base64: str("File contents, base64"), mime_type: str("MIME type, e.g. application/pdf") }, ["filename", "content_base64"]);
export const priority = oneOf("Priority", ["urgent", "high", "medium", "low", "none"]);
export const lineItem = obj({ description: str("What is billed"), quantity: int("Quantity", { minimum: 1 }), unit_amount: int("Price per unit in the smallest currency unit", { minimum: 0 }), tax_rate_ids: list("Tax rates applied to this line", str("Tax rate id")) }, ["description", "quantity", "unit_amount"]);
export const block = obj(
  {
    type: oneOf("Block type", ["paragraph", "heading_1", "heading_2", "heading_3", "bulleted_list_item", "numbered_list_item", "to_do", "code", "quote", "divider"]),
    text: str("Plain text of the block (Markdown inline marks allowed)"),
    checked: bool("For to_do blocks: whether it is done"),
    language: str("For code blocks: the language"),
  },
  ["type"],
);

