// The processes under test, each started as `npm run stack` would start it, with bench-only
// names: its own catalog database, NATS subject prefix and instance ids.
import { databaseUrl } from './pg.mjs';
import { startApp } from './processes.mjs';

export const GATEWAY_SCRIPT = 'dist/apps/gateway/src/main.js';
export const SECURE_STORE_SCRIPT = 'dist/apps/secure-store/src/main.js';
export const FLOOR_SCRIPT = 'dist/bench/baseline/src/main.js';

/** Instance ids; PostgreSQL application_names are derived from them by the apps. */
export function instanceIds(settings) {
  return { gateway: `bench${settings.runId}-gateway`, secure: `bench${settings.runId}-secure` };
}

/** application_name of the secure store's tenant pool, and prefixes of everything this run opens. */
export function connectionNames(settings) {
  const ids = instanceIds(settings);
  return {
    tenantPool: `polystore-secure:${ids.secure}`,
    ours: [
      `polystore-gateway:${ids.gateway}`,
      `polystore-secure-store:${ids.secure}`,
      `polystore-secure:${ids.secure}`,
      'polystore-bench-baseline:',
    ],
  };
}

/** Environment shared by the gateway and the secure store. */
function commonEnv(settings) {
  return {
    NODE_ENV: 'production',
    // `info`: the default, and what carries the `ready` line; it also means one access-log line
    // per request in the gateway, a cost production pays too. Logs go to files (processes.mjs).
    LOG_LEVEL: 'info',
    SYSTEM_DB_URL: databaseUrl(settings.pgServerUrl, settings.catalogDatabase),
    SECURE_SERVER_URL: settings.pgServerUrl,
    NATS_URL: settings.natsUrl,
    NATS_SUBJECT_PREFIX: `bench${settings.runId}`,
    MASTER_KEY: settings.masterKey,
    CATALOG_POOL_SIZE: String(settings.secure.catalogPoolSize),
  };
}

export function startGateway(settings, logDir) {
  return startApp({
    name: 'gateway',
    script: GATEWAY_SCRIPT,
    logDir,
    env: {
      ...commonEnv(settings),
      ADMIN_TOKEN: settings.adminToken,
      BASE_DOMAIN: settings.baseDomain,
      GATEWAY_PORT: '0',
      INSTANCE_ID: instanceIds(settings).gateway,
      // This benchmark runs only the secure store: tenants are provisioned there alone.
      STORES: 'secure',
    },
  });
}

/** The secure store with `poolSize` connections per tenant DataSource (budget unchanged). */
export function startSecureStore(settings, logDir, poolSize) {
  return startApp({
    name: `secure-store-pool${poolSize}`,
    script: SECURE_STORE_SCRIPT,
    logDir,
    env: {
      ...commonEnv(settings),
      SECURE_HTTP_PORT: '0',
      INSTANCE_ID: instanceIds(settings).secure,
      SECURE_DB_POOL_SIZE: String(poolSize),
      SECURE_DB_CONNECTION_BUDGET: String(settings.secure.connectionBudget),
    },
  });
}

/** The floor, reading from one tenant's secure database. */
export function startFloor(settings, logDir, database) {
  return startApp({
    name: 'floor',
    script: FLOOR_SCRIPT,
    logDir,
    env: {
      NODE_ENV: 'production',
      BASELINE_DB_URL: databaseUrl(settings.pgServerUrl, database),
      BASELINE_PORT: '0',
      BASELINE_POOL_SIZE: String(settings.baselinePoolSize),
    },
  });
}
