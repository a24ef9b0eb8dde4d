import { randomBytes } from 'node:crypto';
import { sha256 } from '#polystore/platform';

/** An API key as issued: the secret (shown once) and what is stored. */
export interface IssuedApiKey {
  readonly secret: string;
  readonly hash: Buffer;
  readonly prefix: string;
}

const KEY_PATTERN = /^psk_[A-Za-z0-9_-]{43}$/;

/**
 * A new API key: `psk_` + 32 random bytes (base64url). Stored as SHA-256: the key has 256 bits
 * of entropy, so a fast hash is enough and lookups stay one indexed equality.
 */
export function issueApiKey(): IssuedApiKey {
  const secret = `psk_${randomBytes(32).toString('base64url')}`;
  return { secret, hash: sha256(secret), prefix: secret.slice(0, 12) };
}

/** The stored form of a presented key, or null when it cannot be a key at all. */
export function hashPresentedApiKey(presented: string): Buffer | null {
  return KEY_PATTERN.test(presented) ? sha256(presented) : null;
}
