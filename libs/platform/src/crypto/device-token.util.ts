import { TENANT_SLUG_PATTERN } from '../tenant-slug.rule.js';
import { deriveKey, hmacSha256, sha256 } from './aead.util.js';

/**
 * Device tokens: `pdt_<tenant>.<deviceId>.<secret>`.
 *
 * The secret is `HMAC(key, "<deviceId>:<generation>")` with a key derived from the master key's
 * derivation root (`MasterKeyring.derivationRoot`, stable when a master key version is added) and
 * the tenant, so every replica (and a saga retry) recomputes the same token for a device's
 * current generation without any copy being stored: the database keeps only its SHA-256. A
 * revoke bumps the generation; the next provision yields a new token. The tenant and device
 * in the token are routing hints; the hash decides. Shared by the gateway (which shows a new
 * device its token), the secure store (which keeps its hash) and the edge store (which checks it).
 */
export class DeviceTokens {
  private readonly root: Buffer;

  /** `masterKey`: the master key's derivation root (`MasterKeyring.derivationRoot`). */
  constructor(masterKey: Buffer) {
    this.root = deriveKey(masterKey, 'polystore/edge/device-tokens');
  }

  token(tenant: string, deviceId: string, generation: number): string {
    const key = deriveKey(this.root, `tenant:${tenant}`);
    const secret = hmacSha256(key, `${deviceId}:${generation}`).toString('base64url');
    return `pdt_${tenant}.${deviceId}.${secret}`;
  }

  /** What is stored for a token. */
  static hash(token: string): Buffer {
    return sha256(token);
  }

  /** The tenant and device a presented token claims, or null when it cannot be a token. */
  static parse(presented: string): { tenant: string; deviceId: string } | null {
    const match =
      /^pdt_([^.]{2,40})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.[A-Za-z0-9_-]{43}$/.exec(
        presented,
      );
    if (!match || !TENANT_SLUG_PATTERN.test(match[1] ?? '')) return null;
    return { tenant: match[1]!, deviceId: match[2]! };
  }
}
