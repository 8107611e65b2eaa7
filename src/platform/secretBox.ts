/**
 * Secrets at rest: AES-256-GCM under DZX_SECRET_KEY. In embedded mode (or when the
 * operator sets none) a key is generated into the data dir with mode 0600.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Encrypts and decrypts secret values; never logs them. */
export interface SecretBox {
  seal(plain: string): string;
  open(sealed: string): string;
  /** Whether the key was generated (not provided by the operator). */
  generated: boolean;
  /** A 32-byte key for one purpose, derived from this one (HKDF-SHA256): every process with the same DZX_SECRET_KEY derives the same. */
  derive(purpose: string): Buffer;
}

/** Decodes DZX_SECRET_KEY; throws with a message naming it when it is not 32 bytes. */
export function parseKey(raw: string): Buffer {
  if (/^[0-9a-fA-F]{64}$/.test(raw)) return Buffer.from(raw, "hex");
  const b = Buffer.from(raw, "base64");
  if (b.length === 32 && /^[A-Za-z0-9+/_-]+={0,2}$/.test(raw)) return b;
  throw new Error("Invalid DZX_SECRET_KEY: it must be 32 bytes, written as 64 hex characters or base64 (e.g. `openssl rand -hex 32`)");
}

/** Loads the configured key, or reads/creates `<dataDir>/secret.key`. */
export function openSecretBox(secretKey: string | undefined, dataDir: string): SecretBox {
  let key: Buffer;
  let generated = false;
  if (secretKey) key = parseKey(secretKey);
  else {
    const path = join(dataDir, "secret.key");
    if (existsSync(path)) key = parseKey(readFileSync(path, "utf8").trim());
    else {
      mkdirSync(dataDir, { recursive: true });
      key = randomBytes(32);
      writeFileSync(path, key.toString("hex"), { mode: 0o600, flag: "wx" });
    }
    generated = true;
  }
  return {
    generated,
    derive: (purpose) => Buffer.from(hkdfSync("sha256", key, Buffer.alloc(0), `dzx ${purpose}`, 32)),
    seal(plain) {
      const iv = randomBytes(12);
      const c = createCipheriv("aes-256-gcm", key, iv);
      const body = Buffer.concat([c.update(plain, "utf8"), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), body]).toString("base64");
    },
    open(sealed) {
      const buf = Buffer.from(sealed, "base64");
      const d = createDecipheriv("aes-256-gcm", key, buf.subarray(0, 12));
      d.setAuthTag(buf.subarray(12, 28));
      return Buffer.concat([d.update(buf.subarray(28)), d.final()]).toString("utf8");
    },
  };
}

/** The placeholder lists show: the last four characters only when the value is long enough not to leak. */
export function mask(plain: string): string {
  return plain.length >= 12 ? `••••${plain.slice(-4)}` : "••••";
}
