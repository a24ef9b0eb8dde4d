// The processes under test, each started as `npm run stack` would start it, with bench-only
// names: its own catalog database, NATS subject prefix and instance ids.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { databaseUrl } from './pg.mjs';
import { startApp } from './processes.mjs';
import { contextEnv } from './context-key.mjs';

export const GATEWAY_SCRIPT = 'dist/apps/gateway/src/main.js';
export const SECURE_STORE_SCRIPT = 'dist/apps/secure-store/src/main.js';
export const RELIABLE_STORE_SCRIPT = 'dist/apps/reliable-store/src/main.js';
export const EDGE_STORE_SCRIPT = 'dist/apps/edge-store/src/main.js';
export const FLOOR_SCRIPT = 'dist/bench/baseline/src/main.js';
export const NAIVE_SCRIPT = 'dist/bench/baseline/src/naive/main.js';

/** Instance ids; PostgreSQL application_names are derived from them by the apps. */
export function instanceIds(settings) {
  const id = (app) => `bench${settings.runId}-${app}`;
  return { gateway: id('gateway'), secure: id('secure'), reliable: id('reliable'), edge: id('edge') };
}

/** application_name prefixes of the naive baseline's and the floor's connections. */
export const NAIVE_APPLICATION_NAME = 'polystore-bench-naive:';
export const FLOOR_APPLICATION_NAME = 'polystore-bench-baseline:';

/**
 * application_names of the secure store's tenant connections (its shared pool and any pool of a
 * `database` placement), and prefixes of everything this run opens.
 */
export function connectionNames(settings) {
  const ids = instanceIds(settings);
  return {
    tenantPool: `polystore-secure:${ids.secure}`,
    ours: [
      `polystore-gateway:${ids.gateway}`,
      `polystore-secure-store:${ids.secure}`,
      `polystore-secure:${ids.secure}`,
      `polystore-reliable-store:${ids.reliable}`,
      `polystore-edge-store:${ids.edge}`,
      `polystore-edge:${ids.edge}`,
      FLOOR_APPLICATION_NAME,
      NAIVE_APPLICATION_NAME,
    ],
  };
}

/** Environment shared by the gateway and the stores. */
function commonEnv(settings) {
  return {
    NODE_ENV: 'production',
    // `info`: the default, and what carries the `ready` line; it also means one access-log line
    // per request in the gateway, a cost production pays too. Logs go to files (processes.mjs).
    LOG_LEVEL: 'info',
    SYSTEM_DB_URL: databaseUrl(settings.pgServerUrl, settings.catalogDatabase),
    SECURE_SERVER_URL: settings.pgServerUrl,
    RELIABLE_SERVER_URL: settings.mariadbUrl,
    EDGE_SERVER_URL: settings.pgServerUrl,
    NATS_URL: settings.natsUrl,
    NATS_SUBJECT_PREFIX: `bench${settings.runId}`,
    MASTER_KEY: settings.masterKey,
    ...contextEnv,
    CATALOG_POOL_SIZE: String(settings.secure.catalogPoolSize),
  };
}

/** The gateway, provisioning tenants in `stores` (default: the secure store alone). */
export function startGateway(settings, logDir, stores = ['secure']) {
  return startApp({
    name: `gateway-${stores.join('-')}`,
    script: GATEWAY_SCRIPT,
    logDir,
    appsRoot: settings.appsRoot,
    env: {
      ...commonEnv(settings),
      ADMIN_TOKEN: settings.adminToken,
      BASE_DOMAIN: settings.baseDomain,
      GATEWAY_PORT: '0',
      ADMIN_PORT: '0',
      INSTANCE_ID: instanceIds(settings).gateway,
      STORES: stores.join(','),
      // No scheduled job (usage rollup, device-offline sweep) runs during the measurements.
      JOBS: '',
      TENANT_DELETION_GRACE_MS: '0',
      // The abuse controls' per-key and per-tenant rate limits (1,000 and 2,000 per second by
      // default) would answer a 1-tenant read at full speed with 429s: off, this measures capacity.
      RATE_LIMIT_PER_KEY: '0',
      RATE_LIMIT_PER_TENANT: '0',
    },
  });
}

/**
 * The secure store with its default limits, `tenantCap` (0 = half the shared pool) aside; the
 * bench restates the defaults so the results say what was measured.
 */
export function startSecureStore(settings, logDir, { tenantCap = settings.secure.tenantCap } = {}) {
  const s = settings.secure;
  return startApp({
    name: `secure-store${tenantCap ? `-cap${tenantCap}` : ''}`,
    script: SECURE_STORE_SCRIPT,
    logDir,
    appsRoot: settings.appsRoot,
    env: {
      ...commonEnv(settings),
      SECURE_HTTP_PORT: '0',
      INSTANCE_ID: instanceIds(settings).secure,
      SECURE_DB_POOL_SIZE: String(s.poolSize),
      SECURE_DB_CONNECTION_BUDGET: String(s.connectionBudget),
      SECURE_DB_SHARED_POOL_SIZE: String(s.sharedPoolSize),
      SECURE_DB_SERVER_SHARE: String(s.serverSharePct),
      SECURE_DB_SERVER_RESERVE: String(s.serverReserve),
      SECURE_DB_TENANT_CAP: String(tenantCap),
    },
  });
}

/** The reliable store (MariaDB), default settings: only to provision tenants. */
export function startReliableStore(settings, logDir) {
  return startApp({
    name: 'reliable-store',
    script: RELIABLE_STORE_SCRIPT,
    logDir,
    appsRoot: settings.appsRoot,
    env: { ...commonEnv(settings), RELIABLE_HTTP_PORT: '0', INSTANCE_ID: instanceIds(settings).reliable },
  });
}

/** The edge store (PostgreSQL), default settings, no device broker (`DEVICE_BROKER=off`): only to provision tenants. */
export function startEdgeStore(settings, logDir) {
  return startApp({
    name: 'edge-store',
    script: EDGE_STORE_SCRIPT,
    logDir,
    appsRoot: settings.appsRoot,
    env: {
      ...commonEnv(settings),
      EDGE_HTTP_PORT: '0',
      INSTANCE_ID: instanceIds(settings).edge,
      DEVICE_BROKER: 'off',
      // Unused with the broker off, but the edge store asks for it in production all the same.
      DEVICE_BROKER_KEY: settings.deviceBrokerKey,
    },
  });
}

/** The floor, reading from one tenant's `customers` table: `{ database, schema? }`. */
export function startFloor(settings, logDir, placement) {
  return startApp({
    name: 'floor',
    script: FLOOR_SCRIPT,
    logDir,
    appsRoot: settings.appsRoot,
    env: {
      NODE_ENV: 'production',
      BASELINE_DB_URL: databaseUrl(settings.pgServerUrl, placement.database),
      ...(placement.schema ? { BASELINE_DB_SCHEMA: placement.schema } : {}),
      BASELINE_PORT: '0',
      BASELINE_POOL_SIZE: String(settings.baselinePoolSize),
    },
  });
}

/**
 * The naive request-scoped baseline, serving `tenants` (`[{ slug, database, schema? }]`, written
 * to a file in `logDir`), one DataSource of `settings.naivePoolSize` connections per tenant.
 */
export function startNaive(settings, logDir, tenants) {
  const file = join(logDir, 'naive-tenants.json');
  const map = Object.fromEntries(
    tenants.map((t) => [t.slug, { database: t.database, ...(t.schema ? { schema: t.schema } : {}) }]),
  );
  writeFileSync(file, JSON.stringify(map));
  return startApp({
    name: 'naive',
    script: NAIVE_SCRIPT,
    logDir,
    appsRoot: settings.appsRoot,
    env: {
      NODE_ENV: 'production',
      NAIVE_SERVER_URL: settings.pgServerUrl,
      NAIVE_TENANTS_FILE: file,
      NAIVE_PORT: '0',
      NAIVE_POOL_SIZE: String(settings.naivePoolSize),
    },
  });
}
