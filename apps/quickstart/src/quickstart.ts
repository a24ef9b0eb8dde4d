import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { EmbeddedPostgres } from '#polystore/embedded-postgres';
import type { StoreApp } from '#polystore/runtime';
import { EDGE_STORE_APP } from '../../edge-store/src/index.js';
import { adminAddressOf, startGateway } from '../../gateway/src/index.js';
import { RELIABLE_STORE_APP } from '../../reliable-store/src/index.js';
import { SECURE_STORE_APP } from '../../secure-store/src/index.js';
import type { QuickstartConfig } from './config.js';

/** What runs: the embedded PostgreSQL, then the three stores and the gateway, in this process. */
export interface RunningQuickstart {
  readonly postgres: EmbeddedPostgres;
  readonly gatewayPort: number;
  /** The gateway's admin port: the admin API, `/docs`, `/metrics`, `/health/ready`. */
  readonly adminPort: number;
  readonly ingestPort: number;
  /** Environment every app was started with (the infrastructure URLs point at the embedded parts). */
  readonly env: Record<string, string | undefined>;
  /** Stops the gateway first (no new requests), then the stores, then PostgreSQL. */
  stop(): Promise<void>;
}

/** The stores the quickstart runs, started in this order (a new store is added here). */
const STORE_APPS: readonly StoreApp[] = [SECURE_STORE_APP, RELIABLE_STORE_APP, EDGE_STORE_APP];

/** Name of the in-process NATS every app of the quickstart shares. */
const IN_PROCESS_NATS = 'inproc://polystore';

/**
 * Starts the whole system in one process without any server: an embedded PostgreSQL (PGlite)
 * serves the catalog and every store's tenant databases (the reliable store on PostgreSQL),
 * the apps talk over an in-process NATS, and the edge store takes device data over HTTP only.
 * The apps are the same modules the distributed stack runs; only their environment differs.
 */
export async function startQuickstart(
  config: QuickstartConfig,
  env: Record<string, string | undefined>,
  log: (line: string) => void,
): Promise<RunningQuickstart> {
  const home = resolve(config.QUICKSTART_DIR);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const postgres = await EmbeddedPostgres.start({
    dataDir: join(home, 'postgres'),
    port: config.EMBEDDED_PG_PORT,
    log,
  });
  const apps: INestApplication[] = [];
  const stop = async (): Promise<void> => {
    for (const app of apps.reverse()) await app.close().catch(() => undefined);
    await postgres.stop();
  };
  const appEnv: Record<string, string | undefined> = {
    ...env,
    NODE_ENV: config.NODE_ENV,
    LOG_LEVEL: config.LOG_LEVEL,
    // Infrastructure: every URL points at the embedded parts, whatever the caller's environment says.
    SYSTEM_DB_URL: postgres.url('polystore_system'),
    ...Object.fromEntries(
      STORE_APPS.flatMap(({ manifest: { configPrefix: store } }) => [
        [`${store}_SERVER_URL`, postgres.url()],
        // A database of its own per tenant and store: the embedded PostgreSQL runs one statement at
        // a time per database, so one shared database would serialize every tenant on one cluster.
        [`${store}_PLACEMENT_KIND`, 'database'],
        // The embedded PostgreSQL opens a database's cluster on its first session: half a second,
        // several on a busy machine. Allow for it, unless the caller chose otherwise.
        [`${store}_DB_CONNECT_TIMEOUT_MS`, env[`${store}_DB_CONNECT_TIMEOUT_MS`] ?? '30000'],
      ]),
    ),
    NATS_URL: IN_PROCESS_NATS,
    DEVICE_BROKER: 'off',
    DEV_SECRETS_FILE: join(home, 'dev-secrets.json'),
    BASE_DOMAIN: config.BASE_DOMAIN,
    GATEWAY_PORT: String(config.GATEWAY_PORT),
    ADMIN_PORT: String(config.ADMIN_PORT),
    EDGE_HTTP_PORT: String(config.EDGE_HTTP_PORT),
    REQUEST_TIMEOUT_MS: env.REQUEST_TIMEOUT_MS ?? '30000',
    // The other stores' HTTP servers only serve health and metrics: any free port.
    SECURE_HTTP_PORT: '0',
    RELIABLE_HTTP_PORT: '0',
    // Lease owners (sagas, jobs) must differ from a previous run's, which may have died holding some.
    INSTANCE_ID: `quickstart:${process.pid}`,
  };
  try {
    // One after another: each opens (and, the first time, migrates) the system database, and
    // the embedded PostgreSQL's advisory locks do not exclude sessions of one process.
    const stores = new Map<string, INestApplication>();
    for (const store of STORE_APPS) {
      const app = await store.start(appEnv, { handleSignals: false });
      apps.push(app);
      stores.set(store.manifest.name, app);
    }
    const edge = stores.get('edge')!;
    const gateway = await startGateway(appEnv, { handleSignals: false });
    apps.push(gateway);
    return {
      postgres,
      env: appEnv,
      gatewayPort: portOf(gateway, config.GATEWAY_PORT),
      adminPort: adminAddressOf(gateway).port,
      ingestPort: portOf(edge, config.EDGE_HTTP_PORT),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function portOf(app: INestApplication, configured: number): number {
  const address = (app.getHttpServer() as Server).address() as { port?: number } | null;
  return address?.port ?? configured;
}
