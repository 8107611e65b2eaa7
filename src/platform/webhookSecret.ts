/**
 * A TRIGGER's webhook secret (issue 17.6): issued at attach time and on rotation, shown
 * once, stored sealed (an HMAC check needs the secret itself, so a hash would not do).
 * A request proves it holds the secret as `Authorization: Bearer <secret>` or by
 * signing its body: `X-Dzx-Signature: sha256=<hex HMAC-SHA256 of the body>`.
 * Both checks compare in constant time.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { randomString } from "./token.ts";

/** The header a signed request carries. */
export const SIGNATURE_HEADER = "x-dzx-signature";

/** A new webhook secret: `whsec_` + 40 base62 characters. */
export function newWebhookSecret(): string {
  return `whsec_${randomString(40)}`;
}

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

/** Whether a bearer token is the secret: both hashed first, so the comparison's length says nothing. */
function bearerMatches(secret: string, authorization: string | null): boolean {
  const m = authorization === null ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return m !== null && timingSafeEqual(digest(m[1]), digest(secret));
}

/** Whether `sha256=<hex>` is the body's HMAC-SHA256 under the secret. */
function signatureMatches(secret: string, signature: string | null, body: string): boolean {
  const m = signature === null ? null : /^sha256=([0-9a-fA-F]{64})$/.exec(signature.trim());
  if (!m) return false;
  const expected = createHmac("sha256", secret).update(body, "utf8").digest();
  return timingSafeEqual(expected, Buffer.from(m[1], "hex"));
}

/** Whether a webhook request carries the secret in either form. */
export function webhookAuthentic(secret: string, headers: Headers, body: string): boolean {
  // both checks always run: which form was sent is all the timing could tell
  const bearer = bearerMatches(secret, headers.get("authorization"));
  const signed = signatureMatches(secret, headers.get(SIGNATURE_HEADER), body);
  return bearer || signed;
}
