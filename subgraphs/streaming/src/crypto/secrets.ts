import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Standard Webhooks secrets are `whsec_` + base64 of the raw key. */
export const SECRET_PREFIX = 'whsec_';

/** A fresh signing secret (24 random bytes, as Svix/Standard Webhooks generate). Shown once. */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(24).toString('base64');
}

/** The raw HMAC key of a `whsec_` secret. */
export function secretKeyBytes(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) throw new TypeError('not a whsec_ secret');
  return Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
}

/**
 * Parses the encryption key from config (`STREAMING_SECRET_KEY`): 32 bytes as base64 or hex.
 * Throws (naming nothing secret) on anything else.
 */
export function parseEncryptionKey(value: string): Buffer {
  const key = /^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
  if (key.length !== 32) throw new TypeError('STREAMING_SECRET_KEY must be 32 bytes (base64 or 64 hex chars)');
  return key;
}

const VERSION = 'v1';

/** AES-256-GCM: `v1.<iv>.<tag>.<ciphertext>` (base64url parts). The key never leaves config. */
export function encryptSecret(secret: string, key: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, iv.toString('base64url'), tag.toString('base64url'), ct.toString('base64url')].join('.');
}

/** Decrypts {@link encryptSecret}'s output; throws when tampered with or encrypted under another key. */
export function decryptSecret(enc: string, key: Buffer): string {
  const [v, iv, tag, ct] = enc.split('.');
  if (v !== VERSION || !iv || !tag || ct === undefined) throw new TypeError('malformed encrypted secret');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
}
