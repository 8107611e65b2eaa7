/**
 * Random secrets (API keys, server tokens, ids) and their stored SHA-256 form.
 */
import { randomBytes } from "node:crypto";

const ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** `n` characters of base62 from a CSPRNG (rejection sampling keeps it unbiased). */
export function randomString(n: number, alphabet = ALPHABET): string {
  let out = "";
  while (out.length < n) {
    for (const b of randomBytes(n * 2)) {
      if (b < 256 - (256 % alphabet.length)) out += alphabet[b % alphabet.length];
      if (out.length === n) break;
    }
  }
  return out;
}

/** Whether a presented credential has the shape of an API key (`dwz_…`) rather than a server token (`mcp_…`). */
export function looksLikeApiKey(token: string): boolean {
  return token.startsWith("dwz_");
}

/** A new API key: `dwz_live_` + 40 base62 characters. */
export function newApiKey(): string {
  return `dwz_live_${randomString(40)}`;
}

/** A new hosted-server bearer token: `mcp_` + 48 base62 characters. */
export function newServerToken(): string {
  return `mcp_${randomString(48)}`;
}

/** The only form in which keys and tokens are stored (Bun's one-shot SHA-256: every request pays it). */
export function hashToken(token: string): string {
  // Bun.SHA256 is the same digest as CryptoHasher("sha256"), at ~60 % of its cost (it runs on every hosted request)
  return Bun.SHA256.hash(token, "hex");
}

/** A new opaque id (UUID v4). */
export function newId(): string {
  return crypto.randomUUID();
}

/** A new server id: 12 lowercase characters, so endpoints read `/mcp/srv_<id>`. */
export function newServerId(): string {
  return randomString(12, "abcdefghijklmnopqrstuvwxyz0123456789");
}
