import { TENANT_SLUG_PATTERN } from '#polystore/platform';
import { userJwt } from './claims.js';
import type { BrokerKeys } from './broker-keys.js';
import { verifyJwt } from './jwt.js';

const DEVICE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The NATS subject a device publishes to (its MQTT topic `tenants/<t>/devices/<d>/telemetry`). */
export function telemetrySubject(tenant: string, deviceId: string): string {
  return `tenants.${tenant}.devices.${deviceId}.telemetry`;
}

/** The MQTT topic of {@link telemetrySubject}. */
export function telemetryTopic(tenant: string, deviceId: string): string {
  return `tenants/${tenant}/devices/${deviceId}/telemetry`;
}

/** The tenant and device a telemetry subject names, or null when it is not one. */
export function parseTelemetrySubject(subject: string): { tenant: string; deviceId: string } | null {
  const parts = subject.split('.');
  if (parts.length !== 5 || parts[0] !== 'tenants' || parts[2] !== 'devices' || parts[4] !== 'telemetry') return null;
  const [, tenant, , deviceId] = parts as [string, string, string, string];
  return TENANT_SLUG_PATTERN.test(tenant) && DEVICE.test(deviceId) ? { tenant, deviceId } : null;
}

/** What a verified device credential says. */
export interface DeviceClaims {
  readonly tenant: string;
  readonly deviceId: string;
  readonly generation: number;
  /** The credential's user key: what a revocation names. */
  readonly userKey: string;
  readonly issuedAt: number;
  /** Seconds since the epoch; undefined when it never expires. */
  readonly expiresAt?: number;
}

/**
 * Device credentials: user JWTs of the devices account, signed by its signing key with
 * `node:crypto` (no broker call). A credential may publish only to its device's telemetry subject
 * and subscribe to nothing. Each generation of a device has its own user key, so revoking one
 * generation (rotation, deletion) never touches the next.
 */
export class DeviceCredentialIssuer {
  private readonly issuers: ReadonlySet<string>;
  /** Derived user keys, most recently used last (deriving one costs an HKDF and a key pair). */
  private readonly userKeys = new Map<string, string>();

  constructor(
    private readonly keys: BrokerKeys,
    /** Lifetime of a credential in seconds; 0 = no expiry. */
    private readonly ttlSeconds: number,
  ) {
    this.issuers = new Set([keys.deviceSigner.publicKey]);
  }

  /** The user key of a device's credential generation. */
  userKey(tenant: string, deviceId: string, generation: number): string {
    const id = `${tenant}:${deviceId}:${generation}`;
    let key = this.userKeys.get(id);
    if (key) {
      this.userKeys.delete(id);
    } else {
      key = this.keys.device(tenant, deviceId, generation).publicKey;
      if (this.userKeys.size >= 100_000) this.userKeys.delete(this.userKeys.keys().next().value as string);
    }
    this.userKeys.set(id, key);
    return key;
  }

  /** A fresh credential (JWT) for the device at `generation`. */
  issue(tenant: string, deviceId: string, generation: number, issuedAt = Math.floor(Date.now() / 1000)): string {
    if (
      !TENANT_SLUG_PATTERN.test(tenant) ||
      !DEVICE.test(deviceId) ||
      !Number.isSafeInteger(generation) ||
      generation < 1
    )
      throw new Error('a device credential needs a tenant slug, a device UUID and a generation >= 1');
    return userJwt({
      user: this.keys.device(tenant, deviceId, generation),
      account: this.keys.devicesAccount,
      signer: this.keys.deviceSigner,
      name: `device ${deviceId}`,
      permissions: { pub: { allow: [telemetrySubject(tenant, deviceId)] }, sub: { deny: ['>'] } },
      tags: [`tenant:${tenant}`, `device:${deviceId}`, `generation:${generation}`],
      issuedAt,
      bearer: true,
      ...(this.ttlSeconds > 0 ? { expiresAt: issuedAt + this.ttlSeconds } : {}),
    });
  }

  /**
   * What `token` says when it is a credential this issuer signed, unexpired and consistent (its
   * user key is the one of the device and generation it names); null otherwise. Revocation is
   * not checked here: the caller compares the generation with the device's current one.
   */
  verify(token: string): DeviceClaims | null {
    const claims = verifyJwt(token, this.issuers);
    if (!claims || claims.nats.type !== 'user') return null;
    const tags = claims.nats['tags'];
    if (!Array.isArray(tags)) return null;
    const tag = (name: string) =>
      (tags as unknown[])
        .find((t): t is string => typeof t === 'string' && t.startsWith(`${name}:`))
        ?.slice(name.length + 1);
    const tenant = tag('tenant');
    const deviceId = tag('device');
    const generation = Number(tag('generation'));
    if (
      !tenant ||
      !deviceId ||
      !TENANT_SLUG_PATTERN.test(tenant) ||
      !DEVICE.test(deviceId) ||
      !Number.isSafeInteger(generation)
    )
      return null;
    if (claims.sub !== this.userKey(tenant, deviceId, generation)) return null;
    return {
      tenant,
      deviceId,
      generation,
      userKey: claims.sub,
      issuedAt: claims.iat,
      ...(typeof claims.exp === 'number' ? { expiresAt: claims.exp } : {}),
    };
  }
}
