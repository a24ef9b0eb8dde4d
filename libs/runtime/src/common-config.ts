import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  base64KeyVar,
  boolVar,
  intVar,
  logLevelVar,
  MasterKeyring,
  masterKeyringVar,
  nodeEnvVar,
  urlVar,
} from '#polystore/platform';
import { z } from 'zod';
import { checkServerUrlParameters, natsTlsCaVar } from './transport-tls.util.js';

/** A comma-separated list of base64 32-byte keys (two during a rotation), as an array; optional. */
function base64KeyListVar(what: string) {
  return z
    .string()
    .trim()
    .transform((v) =>
      v
        .split(',')
        .map((key) => key.trim())
        .filter(Boolean),
    )
    .refine((keys) => keys.length > 0 && keys.every((key) => /^[A-Za-z0-9+/]{43}=?$/.test(key)), {
      message: `must be base64 ${what} (32 bytes each), comma-separated`,
    })
    .optional();
}

/** Variables every Polystore process reads (the contract's defaults point at loopback services). */
export const commonConfigShape = {
  NODE_ENV: nodeEnvVar,
  LOG_LEVEL: logLevelVar,
  SYSTEM_DB_URL: urlVar(['postgres:', 'postgresql:'], 'postgres://root@127.0.0.1:5432/polystore_system')
    .refine(
      (v) => /^\/[a-z][a-z0-9_]{0,62}$/.test(new URL(v).pathname),
      'must name the system database, e.g. postgres://root@127.0.0.1:5432/polystore_system',
    )
    .superRefine(checkServerUrlParameters),
  NATS_URL: urlVar(['nats:', 'tls:', 'inproc:'], 'nats://127.0.0.1:4222'),
  /** PEM of the CA of the NATS servers' certificates (TLS required): see {@link natsTlsCaVar}. */
  NATS_TLS_CA: natsTlsCaVar,
  /**
   * This service's NKey seed (`SU...`) on an authenticated bus (`polystore bus config`); best given
   * as NATS_NKEY_SEED_FILE. Unset: connect without credentials (an open bus, or inproc://).
   */
  NATS_NKEY_SEED: z
    .string()
    .trim()
    .regex(/^SU[A-Z2-7]{56}$/, 'must be a NATS user NKey seed (SU...)')
    .optional(),
  /** Prefix of every NATS subject; stacks sharing one NATS server use different prefixes. */
  NATS_SUBJECT_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9_-]{0,31}$/, 'must match ^[a-z][a-z0-9_-]{0,31}$')
    .default('ps'),
  /**
   * Base64 of 32 bytes (version 1), or versioned keys `v2:<base64>,v1:<base64>` (the first wraps
   * new tenant data keys, the others only open theirs; see {@link MasterKeyring}): wraps every
   * tenant data key (PII) and, from its lowest version, derives every store's key. Held by the
   * secure store, the gateway and the CLI only; the other stores are given STORE_KEY.
   */
  MASTER_KEY: masterKeyringVar().optional(),
  /**
   * A store's own key, base64 of 32 bytes (`npm run cli -- store-key <store>` derives it from the
   * master key): its placements' server passwords and its runtime login derive from it.
   */
  STORE_KEY: base64KeyVar(32).optional(),
  /**
   * Senders (the gateway, the CLI): base64 of the 32-byte Ed25519 seed that signs every request's
   * context. Outside production, the development one (`contextSigningKey` in DEV_SECRETS_FILE).
   */
  CONTEXT_SIGNING_KEY: base64KeyVar(32).optional(),
  /**
   * Stores: the senders' public keys (base64, 32 bytes), comma-separated; two during a rotation.
   * Outside production, the development signing key's.
   */
  CONTEXT_VERIFY_KEYS: base64KeyListVar('Ed25519 public keys'),
  /**
   * Senders: each store service's X25519 public key (base64), `secure-store=<key>,...`: request
   * sessions are sealed to it. Outside production, keys derived from the signing key.
   */
  CONTEXT_STORE_KEYS: z
    .string()
    .trim()
    .refine((v) => v.split(',').every((entry) => /^[a-z][a-z0-9-]{0,62}=[A-Za-z0-9+/]{43}=?$/.test(entry.trim())), {
      message: 'must be <service>=<base64 X25519 public key>, comma-separated',
    })
    .transform(
      (v) =>
        Object.fromEntries(v.split(',').map((entry) => entry.trim().split(/=(.*)/s).slice(0, 2))) as Record<
          string,
          string
        >,
    )
    .optional(),
  /**
   * Stores: this store service's X25519 private key (base64), opening the sessions the gateway
   * seals to it; two, comma-separated, during a rotation. Outside production, derived.
   */
  CONTEXT_STORE_KEY: base64KeyListVar('X25519 private keys'),
  /** Where development secrets are kept when MASTER_KEY / ADMIN_TOKEN are not set. */
  DEV_SECRETS_FILE: z.string().default('.polystore/dev-secrets.json'),
  INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,64}$/)
    .default(`${hostname()}:${process.pid}`),
  CATALOG_CACHE_TTL_MS: intVar(60_000, 0),
  CATALOG_POOL_SIZE: intVar(4, 2, 100),
  REQUEST_TIMEOUT_MS: intVar(5_000, 100, 600_000),
  SHUTDOWN_TIMEOUT_MS: intVar(10_000, 100, 600_000),
  /** Test only (honoured when NODE_ENV=test): comma-separated crash points to arm, see CrashPoints. */
  CRASH_POINTS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  /**
   * Per-tenant metric series (a `tenant` label): off by default, since at 10,000 tenants they
   * would swamp Prometheus; on for a small deployment or a short investigation
   * (docs/observability.md).
   */
  METRICS_TENANT_LABELS: boolVar(false),
  /** Interface the HTTP servers bind to (0.0.0.0 in containers). */
  HTTP_HOST: z
    .string()
    .regex(/^[0-9a-fA-F:.]+$|^localhost$/, 'must be an IP address or localhost')
    .default('127.0.0.1'),
};

/** Connection limits of one store's tenant DataSources (variables prefixed by the store). */
export function dataRouterConfigShape<P extends string>(prefix: P) {
  return {
    /** Connections of each placement with a pool of its own (`dedicated`, `database` on PostgreSQL). */
    [`${prefix}_DB_POOL_SIZE`]: intVar(2, 1, 100),
    /** Most connections one process opens to one server; lowered by the server's own limit (below). */
    [`${prefix}_DB_CONNECTION_BUDGET`]: intVar(40, 1, 10_000),
    /** Share, in percent, of a server's usable connections (max_connections - reserved) one process may hold. */
    [`${prefix}_DB_SERVER_SHARE`]: intVar(25, 1, 100),
    /** Connections of a server left aside before the share is taken (admin sessions, other services). */
    [`${prefix}_DB_SERVER_RESERVE`]: intVar(10, 0, 100_000),
    /** Connections of the one pool serving every shared placement (schema, database on MySQL) of a server. */
    [`${prefix}_DB_SHARED_POOL_SIZE`]: intVar(20, 1, 1_000),
    /** PostgreSQL shared pools: lanes, each tenant with a home lane (backend cache locality); 0 = one per 5 connections. */
    [`${prefix}_DB_SHARED_POOL_LANES`]: intVar(0, 0, 1_000),
    /** Connections one tenant may hold at once in a shared pool; 0 = half the pool. */
    [`${prefix}_DB_TENANT_CAP`]: intVar(0, 0, 1_000),
    /** A shared-pool connection is closed after this many units of work (bounds each backend's catalog cache). */
    [`${prefix}_DB_CONNECTION_MAX_USES`]: intVar(10_000, 1),
    /** A shared-pool connection is closed after serving this long. */
    [`${prefix}_DB_CONNECTION_MAX_AGE_MS`]: intVar(1_800_000, 1_000),
    [`${prefix}_DB_IDLE_TTL_MS`]: intVar(60_000, 100),
    [`${prefix}_DB_MAX_WAITERS`]: intVar(500, 0),
    [`${prefix}_DB_ACQUIRE_TIMEOUT_MS`]: intVar(3_000, 1),
    [`${prefix}_DB_CIRCUIT_FAILURES`]: intVar(3, 1),
    [`${prefix}_DB_CIRCUIT_HALF_OPEN_MS`]: intVar(2_000, 10),
    /** Longest wait for a new connection to a tenant database (TCP, TLS, authentication). */
    [`${prefix}_DB_CONNECT_TIMEOUT_MS`]: intVar(3_000, 100, 600_000),
  } as Record<
    `${P}_DB_${'POOL_SIZE' | 'CONNECTION_BUDGET' | 'SERVER_SHARE' | 'SERVER_RESERVE' | 'SHARED_POOL_SIZE' | 'SHARED_POOL_LANES' | 'TENANT_CAP' | 'CONNECTION_MAX_USES' | 'CONNECTION_MAX_AGE_MS' | 'IDLE_TTL_MS' | 'MAX_WAITERS' | 'ACQUIRE_TIMEOUT_MS' | 'CIRCUIT_FAILURES' | 'CIRCUIT_HALF_OPEN_MS' | 'CONNECT_TIMEOUT_MS'}`,
    ReturnType<typeof intVar>
  >;
}

interface DevSecrets {
  masterKey: string;
  adminToken: string;
  /** Added on first use (an app, or `scripts/nats.sh`): the device broker's root key, base64. */
  deviceBrokerKey?: string;
  /** Added on first use: the Ed25519 seed (base64) that signs request contexts on the bus. */
  contextSigningKey?: string;
}

/**
 * Development only: secrets kept in a local file (mode 0600) so every process of a local stack,
 * and every restart, shares them. Created on first use with a loud warning. Never used when
 * NODE_ENV=production, where MASTER_KEY and ADMIN_TOKEN are required.
 */
export function developmentSecrets(file: string): DevSecrets {
  const path = resolve(file);
  if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8')) as DevSecrets;
  const secrets: DevSecrets = {
    masterKey: randomBytes(32).toString('base64'),
    adminToken: randomBytes(24).toString('base64url'),
    deviceBrokerKey: randomBytes(32).toString('base64'),
    contextSigningKey: randomBytes(32).toString('base64'),
  };
  mkdirSync(dirname(path), { recursive: true });
  try {
    writeFileSync(path, JSON.stringify(secrets, null, 2), { flag: 'wx', mode: 0o600 });
  } catch {
    // Another process of the stack created it first: use theirs.
    return JSON.parse(readFileSync(path, 'utf8')) as DevSecrets;
  }
  chmodSync(path, 0o600);
  process.stderr.write(
    `\n*** WARNING: MASTER_KEY/ADMIN_TOKEN not set; generated development secrets in ${path}.\n` +
      '*** Losing that file makes encrypted data unreadable. Set MASTER_KEY and ADMIN_TOKEN in production.\n\n',
  );
  return secrets;
}

/** A zod check that makes `keys` required when NODE_ENV=production (reported under each key's name). */
export function requiredInProduction(keys: readonly string[]) {
  return (config: Record<string, unknown>, ctx: z.RefinementCtx): void => {
    if (config['NODE_ENV'] !== 'production') return;
    for (const key of keys) {
      if (config[key] === undefined)
        ctx.addIssue({ code: 'custom', path: [key], message: 'is required when NODE_ENV=production' });
    }
  };
}

/**
 * A zod check that refuses `keys` when NODE_ENV=production: secrets a service must not hold
 * (reported under each key's name, with `why`).
 */
export function refusedInProduction(keys: readonly string[], why: string) {
  return (config: Record<string, unknown>, ctx: z.RefinementCtx): void => {
    if (config['NODE_ENV'] !== 'production') return;
    for (const key of keys) {
      if (config[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `must not be set: ${why}` });
    }
  };
}

/** The master key's versions: MASTER_KEY, or (outside production) the development key, as version 1. */
export function resolveMasterKey(config: { MASTER_KEY?: MasterKeyring; DEV_SECRETS_FILE: string }): MasterKeyring {
  return (
    config.MASTER_KEY ??
    MasterKeyring.single(Buffer.from(developmentSecrets(config.DEV_SECRETS_FILE).masterKey, 'base64'))
  );
}

/**
 * The device broker's root key (every NATS operator, account and device key is derived from it:
 * `libs/device-broker`): DEVICE_BROKER_KEY, or (outside production) the development one, created
 * in the secrets file on first use, where `scripts/nats.sh` finds the same one.
 */
export function resolveDeviceBrokerKey(config: {
  DEVICE_BROKER_KEY?: Buffer;
  NODE_ENV: string;
  DEV_SECRETS_FILE: string;
}): Buffer {
  if (config.DEVICE_BROKER_KEY) return config.DEVICE_BROKER_KEY;
  if (config.NODE_ENV === 'production') throw new Error('DEVICE_BROKER_KEY is required in production');
  return developmentKey(config.DEV_SECRETS_FILE, 'deviceBrokerKey');
}

/**
 * The seed that signs request contexts (gateway, CLI): CONTEXT_SIGNING_KEY, or (outside
 * production) the development one, created in the secrets file on first use.
 */
export function resolveContextSigningKey(config: {
  CONTEXT_SIGNING_KEY?: Buffer;
  NODE_ENV: string;
  DEV_SECRETS_FILE: string;
}): Buffer {
  if (config.CONTEXT_SIGNING_KEY) return config.CONTEXT_SIGNING_KEY;
  if (config.NODE_ENV === 'production') throw new Error('CONTEXT_SIGNING_KEY is required in production');
  return developmentKey(config.DEV_SECRETS_FILE, 'contextSigningKey');
}

/** A 32-byte development key kept in the secrets file, added to it on first use. */
function developmentKey(file: string, field: 'deviceBrokerKey' | 'contextSigningKey'): Buffer {
  const secrets = developmentSecrets(file);
  const existing = secrets[field];
  if (existing) return Buffer.from(existing, 'base64');
  // A secrets file from before this field existed (new files hold every key from the start).
  const path = resolve(file);
  const key = randomBytes(32).toString('base64');
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify({ ...secrets, [field]: key }, null, 2), { mode: 0o600 });
  renameSync(temporary, path);
  // Two processes adding the field at once: the last rename wins, so use what stuck.
  return Buffer.from(developmentSecrets(file)[field] ?? key, 'base64');
}

/** The admin token: ADMIN_TOKEN, or (outside production) the development one. */
export function resolveAdminToken(config: { ADMIN_TOKEN?: string; DEV_SECRETS_FILE: string }): string {
  return config.ADMIN_TOKEN ?? developmentSecrets(config.DEV_SECRETS_FILE).adminToken;
}

/** A comma-separated list of `postgres://` or `mysql://` (`mariadb://`) server URLs, or nothing. */
export function serverUrlListVar() {
  return z
    .string()
    .trim()
    .transform((v) =>
      v
        .split(',')
        .map((url) => url.trim())
        .filter(Boolean),
    )
    .refine((urls) => urls.length > 0 && urls.every((url) => /^(postgres|postgresql|mysql|mariadb):\/\//.test(url)), {
      message: 'must be postgres:// or mysql:// (mariadb://) server URLs, comma-separated',
    })
    .optional();
}
