import { deriveKey, hmacSha256, sha256 } from '#polystore/platform';
import { isTenantSlug, type TenantSlug } from '#polystore/tenancy';

/**
 * Device tokens: `pdt_<tenant>.<deviceId>.<secret>`.
 *
 * The secret is `HMAC(key, "<deviceId>:<generation>")` with a key derived from MASTER_KEY and
 * the tenant, so every replica (and a saga retry) recomputes the same token for a device's
 * current generation without any copy being stored: the database keeps only its SHA-256. A
 * revoke bumps the generation; the next provision yields a new token. The tenant and device
 * in the token are routing hints; the hash decides.
 */
export class DeviceTokens {
  private readonly root: Buffer;

  constructor(masterKey: Buffer) {
    this.root = deriveKey(masterKey, 'polystore/edge/device-tokens');
  }

  token(tenant: TenantSlug, deviceId: string, generation: number): string {
    const key = deriveKey(this.root, `tenant:${tenant}`);
    const secret = hmacSha256(key, `${deviceId}:${generation}`).toString('base64url');
    return `pdt_${tenant}.${deviceId}.${secret}`;
  }

  /** What is stored for a token. */
  static hash(token: string): Buffer {
    return sha256(token);
  }

  /** The tenant and device a presented token claims, or null when it cannot be a token. */
  static parse(presented: string): { tenant: TenantSlug; deviceId: string } | null {
    const match =
      /^pdt_([a-z][a-z0-9-]{1,39})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.[A-Za-z0-9_-]{43}$/.exec(
        presented,
      );
    if (!match || !isTenantSlug(match[1])) return null;
    return { tenant: match[1], deviceId: match[2]! };
  }
}
