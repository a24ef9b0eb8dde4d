import { describe, expect, it } from '@jest/globals';
import {
  BrokerKeys,
  brokerServerConfig,
  decodeJwt,
  DeviceCredentialIssuer,
  devicesAccountJwt,
  parseTelemetrySubject,
  signJwt,
  telemetrySubject,
  telemetryTopic,
  userJwt,
  verifyJwt,
} from '#polystore/device-broker';

const keys = new BrokerKeys(Buffer.alloc(32, 1));
const otherKeys = new BrokerKeys(Buffer.alloc(32, 2));
const TENANT = 'acme';
const DEVICE_A = '3c2f9a10-1b2c-4d5e-8f90-0123456789ab';
const DEVICE_B = '7d1e2f30-4a5b-4c6d-9e8f-fedcba987654';

/** Re-encodes the middle part of a JWT with `change` applied to its claims, keeping the signature. */
function withClaims(token: string, change: (claims: Record<string, unknown>) => void): string {
  const [header, body, signature] = token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
  change(claims);
  return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
}

describe('device-broker - nkeys derived from DEVICE_BROKER_KEY', () => {
  it('gives each role its nkeys prefix (O/A/U public keys, SO/SA/SU seeds)', () => {
    expect(keys.operator.publicKey).toMatch(/^O[A-Z2-7]{55}$/);
    expect(keys.operator.seed).toMatch(/^SO[A-Z2-7]{56}$/);
    for (const account of [keys.systemAccount, keys.devicesAccount, keys.deviceSigner]) {
      expect(account.publicKey).toMatch(/^A[A-Z2-7]{55}$/);
      expect(account.seed).toMatch(/^SA[A-Z2-7]{56}$/);
    }
    for (const user of [keys.systemUser, keys.ingestUser, keys.device(TENANT, DEVICE_A, 1)]) {
      expect(user.publicKey).toMatch(/^U[A-Z2-7]{55}$/);
      expect(user.seed).toMatch(/^SU[A-Z2-7]{56}$/);
    }
  });

  it('derives the same keys from the same secret and different keys from another secret', () => {
    const again = new BrokerKeys(Buffer.alloc(32, 1));
    const roles = ['operator', 'systemAccount', 'systemUser', 'devicesAccount', 'deviceSigner', 'ingestUser'] as const;
    for (const role of roles) {
      expect(again[role].publicKey).toBe(keys[role].publicKey);
      expect(again[role].seed).toBe(keys[role].seed);
      expect(otherKeys[role].publicKey).not.toBe(keys[role].publicKey);
    }
    const publicKeys = new Set(roles.map((role) => keys[role].publicKey));
    expect(publicKeys.size).toBe(roles.length);
  });

  it('gives every generation of a device a key of its own', () => {
    const first = keys.device(TENANT, DEVICE_A, 1).publicKey;
    expect(new BrokerKeys(Buffer.alloc(32, 1)).device(TENANT, DEVICE_A, 1).publicKey).toBe(first);
    expect(keys.device(TENANT, DEVICE_A, 2).publicKey).not.toBe(first);
    expect(keys.device(TENANT, DEVICE_B, 1).publicKey).not.toBe(first);
    expect(keys.device('other', DEVICE_A, 1).publicKey).not.toBe(first);
  });

  it('refuses a secret shorter than 32 bytes', () => {
    expect(() => new BrokerKeys(Buffer.alloc(31, 1))).toThrow(/32 bytes/);
  });
});

describe('device-broker - NATS JWTs', () => {
  const issuers = new Set([keys.operator.publicKey]);
  const now = Math.floor(Date.now() / 1000);
  const token = signJwt(
    { iat: now, sub: keys.devicesAccount.publicKey, name: 'x', nats: { type: 'account', version: 2 } },
    keys.operator,
  );

  it('verifies what it signed and returns its claims, with a jti', () => {
    const claims = verifyJwt(token, issuers);
    expect(claims).toMatchObject({ iss: keys.operator.publicKey, sub: keys.devicesAccount.publicKey, iat: now });
    expect(claims?.jti).toMatch(/^[A-Z2-7]{52}$/);
    expect(decodeJwt(token)).toEqual(claims);
  });

  it('refuses a token whose payload was changed after signing', () => {
    expect(
      verifyJwt(
        withClaims(token, (c) => (c['name'] = 'y')),
        issuers,
      ),
    ).toBeNull();
  });

  it('refuses a token whose signature was changed', () => {
    const [header, body, signature] = token.split('.') as [string, string, string];
    const bytes = Buffer.from(signature, 'base64url');
    bytes[0] = bytes[0]! ^ 1;
    expect(verifyJwt(`${header}.${body}.${bytes.toString('base64url')}`, issuers)).toBeNull();
  });

  it('refuses a token signed by a key that is not one of the issuers', () => {
    expect(verifyJwt(token, new Set([otherKeys.operator.publicKey]))).toBeNull();
    // Naming a trusted issuer does not help when another key signed it.
    const forged = signJwt({ iat: now, sub: 'x', nats: { type: 'account', version: 2 } }, otherKeys.operator);
    expect(
      verifyJwt(
        withClaims(forged, (c) => (c['iss'] = keys.operator.publicKey)),
        issuers,
      ),
    ).toBeNull();
  });

  it('refuses an expired token and accepts it before it expires', () => {
    const expiring = signJwt(
      { iat: now, exp: now + 60, sub: 'x', nats: { type: 'account', version: 2 } },
      keys.operator,
    );
    expect(verifyJwt(expiring, issuers, now + 59)).not.toBeNull();
    expect(verifyJwt(expiring, issuers, now + 60)).toBeNull();
  });

  it('refuses garbage', () => {
    for (const garbage of ['', 'a.b', 'a.b.c', `${token}.x`, 'x'.repeat(9_000)])
      expect(verifyJwt(garbage, issuers)).toBeNull();
  });

  it('marks a user JWT signed by a signing key with the account it belongs to', () => {
    const signed = decodeJwt(
      userJwt({
        user: keys.ingestUser,
        account: keys.devicesAccount,
        signer: keys.deviceSigner,
        name: 'u',
        bearer: true,
      }),
    );
    expect(signed?.nats).toMatchObject({ issuer_account: keys.devicesAccount.publicKey, bearer_token: true });
    const own = decodeJwt(
      userJwt({ user: keys.ingestUser, account: keys.devicesAccount, signer: keys.devicesAccount, name: 'u' }),
    );
    expect(own?.nats).not.toHaveProperty('issuer_account');
    expect(own?.nats).not.toHaveProperty('bearer_token');
  });
});

describe('device-broker - device credentials', () => {
  const issuer = new DeviceCredentialIssuer(keys, 3_600);

  it('issues a bearer credential that may publish to its own telemetry subject only', () => {
    const now = Math.floor(Date.now() / 1000);
    const token = issuer.issue(TENANT, DEVICE_A, 3, now);
    expect(issuer.verify(token)).toEqual({
      tenant: TENANT,
      deviceId: DEVICE_A,
      generation: 3,
      userKey: keys.device(TENANT, DEVICE_A, 3).publicKey,
      issuedAt: now,
      expiresAt: now + 3_600,
    });
    expect(decodeJwt(token)?.nats).toMatchObject({
      bearer_token: true,
      pub: { allow: [telemetrySubject(TENANT, DEVICE_A)] },
      sub: { deny: ['>'] },
    });
  });

  it('rejects a credential of device A relabelled as device B, even when signed by the signing key', () => {
    const token = issuer.issue(TENANT, DEVICE_A, 1);
    expect(issuer.verify(withClaims(token, (c) => (c['name'] = `device ${DEVICE_B}`)))).toBeNull();
    const relabelled = userJwt({
      user: keys.device(TENANT, DEVICE_A, 1),
      account: keys.devicesAccount,
      signer: keys.deviceSigner,
      name: `device ${DEVICE_B}`,
      tags: [`tenant:${TENANT}`, `device:${DEVICE_B}`, 'generation:1'],
      bearer: true,
    });
    expect(issuer.verify(relabelled)).toBeNull();
  });

  it('rejects a credential issued under another DEVICE_BROKER_KEY', () => {
    expect(issuer.verify(new DeviceCredentialIssuer(otherKeys, 3_600).issue(TENANT, DEVICE_A, 1))).toBeNull();
  });

  it('rejects an expired credential', () => {
    const issuedAt = Math.floor(Date.now() / 1000) - 7_200;
    expect(issuer.verify(issuer.issue(TENANT, DEVICE_A, 1, issuedAt))).toBeNull();
  });

  it('refuses to issue for a bad tenant, device id or generation', () => {
    expect(() => issuer.issue('Acme', DEVICE_A, 1)).toThrow();
    expect(() => issuer.issue(TENANT, 'not-a-uuid', 1)).toThrow();
    expect(() => issuer.issue(TENANT, DEVICE_A, 0)).toThrow();
    expect(() => issuer.issue(TENANT, DEVICE_A, 1.5)).toThrow();
  });
});

describe('device-broker - telemetry subjects', () => {
  it('parses the subject it builds, and maps it to the MQTT topic', () => {
    expect(parseTelemetrySubject(telemetrySubject(TENANT, DEVICE_A))).toEqual({ tenant: TENANT, deviceId: DEVICE_A });
    expect(telemetryTopic(TENANT, DEVICE_A).replaceAll('/', '.')).toBe(telemetrySubject(TENANT, DEVICE_A));
  });

  it.each([
    '',
    'tenants',
    `tenants.${TENANT}.devices.${DEVICE_A}`,
    `tenants.${TENANT}.devices.${DEVICE_A}.telemetry.extra`,
    `tenant.${TENANT}.devices.${DEVICE_A}.telemetry`,
    `tenants.${TENANT}.device.${DEVICE_A}.telemetry`,
    `tenants.${TENANT}.devices.${DEVICE_A}.status`,
    `tenants.ACME.devices.${DEVICE_A}.telemetry`,
    `tenants.a.devices.${DEVICE_A}.telemetry`,
    `tenants.${TENANT}.devices.${DEVICE_A.toUpperCase()}.telemetry`,
    `tenants.${TENANT}.devices.not-a-uuid.telemetry`,
    `tenants.${TENANT}.devices.*.telemetry`,
    'tenants.>',
  ])('rejects %j', (subject) => {
    expect(parseTelemetrySubject(subject)).toBeNull();
  });
});

describe('device-broker - account JWT and server config', () => {
  it('costs about 93 bytes of account JWT per revoked credential', () => {
    const empty = devicesAccountJwt(keys, {}, 2).length;
    const revocations = Object.fromEntries(
      Array.from({ length: 1_000 }, (_, i) => [keys.device(TENANT, DEVICE_A, i + 1).publicKey, 1_800_000_000]),
    );
    const perEntry = (devicesAccountJwt(keys, revocations, 2).length - empty) / 1_000;
    expect(perEntry).toBeGreaterThan(90);
    expect(perEntry).toBeLessThan(96);
  });

  it('writes a server config that holds no seed, only public keys and JWTs', () => {
    const config = brokerServerConfig(keys, {
      serverName: 'n1',
      host: '127.0.0.1',
      port: 4223,
      mqttPort: 1884,
      dataDir: '/tmp/x',
    });
    expect(config).not.toMatch(/\bS[OAU][A-Z2-7]{56}\b/);
    for (const seed of [keys.operator, keys.systemAccount, keys.devicesAccount, keys.deviceSigner].map((k) => k.seed))
      expect(config).not.toContain(seed);
    expect(config).toContain(`system_account: "${keys.systemAccount.publicKey}"`);
    expect(config).toContain('type: full');
  });
});
