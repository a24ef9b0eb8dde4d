import { signJwt } from './jwt.js';
import type { BrokerKeys } from './broker-keys.js';
import type { NKey } from './nkey.js';

const UNLIMITED = { subs: -1, data: -1, payload: -1 } as const;

function now(): number {
  return Math.floor(Date.now() / 1000);
}

/** The operator JWT the server trusts (self-signed), naming the system account. */
export function operatorJwt(keys: BrokerKeys): string {
  return signJwt(
    {
      iat: now(),
      sub: keys.operator.publicKey,
      name: 'polystore',
      nats: { type: 'operator', version: 2, system_account: keys.systemAccount.publicKey },
    },
    keys.operator,
  );
}

/** The system account's JWT. */
export function systemAccountJwt(keys: BrokerKeys, issuedAt = now()): string {
  return signJwt(
    {
      iat: issuedAt,
      sub: keys.systemAccount.publicKey,
      name: 'SYS',
      nats: {
        type: 'account',
        version: 2,
        limits: { ...UNLIMITED, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 },
        default_permissions: { pub: {}, sub: {} },
      },
    },
    keys.operator,
  );
}

/**
 * The devices account's JWT: JetStream on, device credentials signed by its signing key, and
 * `revocations` (user public key → seconds: every credential of that key issued at or before that
 * time is refused, and its live connections are closed when the server receives this JWT).
 * `issuedAt` must grow from one update to the next: the server keeps the newest JWT.
 */
export function devicesAccountJwt(
  keys: BrokerKeys,
  revocations: Readonly<Record<string, number>>,
  issuedAt = now(),
): string {
  return signJwt(
    {
      iat: issuedAt,
      sub: keys.devicesAccount.publicKey,
      name: 'DEVICES',
      nats: {
        type: 'account',
        version: 2,
        limits: {
          ...UNLIMITED,
          imports: -1,
          exports: -1,
          wildcards: true,
          conn: -1,
          leaf: -1,
          mem_storage: -1,
          disk_storage: -1,
          streams: -1,
          consumer: -1,
        },
        signing_keys: [keys.deviceSigner.publicKey],
        revocations,
        default_permissions: { pub: {}, sub: {} },
      },
    },
    keys.operator,
  );
}

/** Publish and subscribe permissions of a user JWT (NATS subjects). */
export interface UserPermissions {
  readonly pub: { readonly allow?: readonly string[]; readonly deny?: readonly string[] };
  readonly sub: { readonly allow?: readonly string[]; readonly deny?: readonly string[] };
}

/** A user JWT of `account`, signed by `signer` (the account itself or one of its signing keys). */
export function userJwt(options: {
  readonly user: NKey;
  readonly account: NKey;
  readonly signer: NKey;
  readonly name: string;
  readonly permissions?: UserPermissions;
  readonly tags?: readonly string[];
  readonly issuedAt?: number;
  readonly expiresAt?: number;
  /**
   * The JWT alone is the credential (no nonce signed with the user's seed): what MQTT clients,
   * which cannot sign a nonce, need.
   */
  readonly bearer?: boolean;
}): string {
  const { user, account, signer, name, permissions, tags, issuedAt, expiresAt, bearer } = options;
  return signJwt(
    {
      iat: issuedAt ?? now(),
      ...(expiresAt === undefined ? {} : { exp: expiresAt }),
      sub: user.publicKey,
      name,
      nats: {
        type: 'user',
        version: 2,
        ...UNLIMITED,
        pub: permissions?.pub ?? {},
        sub: permissions?.sub ?? {},
        ...(tags ? { tags } : {}),
        ...(bearer ? { bearer_token: true } : {}),
        ...(signer.publicKey === account.publicKey ? {} : { issuer_account: account.publicKey }),
      },
    },
    signer,
  );
}

/** A `.creds` file: the user JWT and the seed that proves it (what a NATS client connects with). */
export function credsFile(jwt: string, user: NKey): string {
  return [
    '-----BEGIN NATS USER JWT-----',
    jwt,
    '------END NATS USER JWT------',
    '',
    '-----BEGIN USER NKEY SEED-----',
    user.seed,
    '------END USER NKEY SEED------',
    '',
  ].join('\n');
}
