import type { Dialect } from '#polystore/data-router';
import { Contracts, type Contract } from '#polystore/messaging';
import { STORE_NAMES, type StoreName } from './store-name.js';

/**
 * What every process knows of one store, described once: its name, its service (NATS queue
 * group), the prefix of its variables (`<PREFIX>_SERVER_URL`, `<PREFIX>_DB_*`,
 * `<PREFIX>_PLACEMENT_KIND`), the engines it runs on, its default server and its tenant
 * contracts. The gateway's configuration and store directory, the stores' configurations and the
 * composing apps (quickstart, CLI) are derived from it. A store's code (entities, migrations,
 * start function) is its app's, exported as a `StoreApp` from `apps/<store>/src/index.ts`.
 */
export interface StoreManifest {
  readonly name: StoreName;
  readonly service: string;
  readonly configPrefix: 'SECURE' | 'RELIABLE' | 'EDGE';
  /** Engines the store's persistence is written for (a placement's server must be one of them). */
  readonly dialects: readonly Dialect[];
  /** The server new tenants are placed on when `<PREFIX>_SERVER_URL` is not set. */
  readonly defaultServerUrl: string;
  /**
   * System-database tables the store's own catalog login (`ps_<store>_catalog`) may insert into
   * and update, besides what every store's login reads: `tenants`, the store's own `placements`
   * and `catalog_migrations` (see `grantStoreCatalogLogins`).
   */
  readonly catalogWrites: readonly string[];
  readonly contracts: {
    readonly provision: Contract;
    readonly drop: Contract;
    readonly health: Contract;
    /** `<store>.tenants.usage`: the tenant's bytes and row counts (answered by `TenantDataModule`). */
    readonly usage: Contract;
  };
}

/** Every store, by name (provisioning order: {@link STORE_NAMES}). */
export const STORE_MANIFESTS = {
  secure: {
    name: 'secure',
    service: 'secure-store',
    configPrefix: 'SECURE',
    dialects: ['postgres'],
    defaultServerUrl: 'postgres://root@127.0.0.1:5432',
    // Its signed audit checkpoints (apps/secure-store/src/audit/).
    catalogWrites: ['audit_checkpoints'],
    contracts: {
      provision: Contracts.secure.tenants.provision,
      drop: Contracts.secure.tenants.drop,
      health: Contracts.secure.health,
      usage: Contracts.secure.tenants.usage,
    },
  },
  reliable: {
    name: 'reliable',
    service: 'reliable-store',
    configPrefix: 'RELIABLE',
    dialects: ['mysql', 'mariadb', 'postgres'],
    defaultServerUrl: 'mysql://root@127.0.0.1:3306',
    catalogWrites: [],
    contracts: {
      provision: Contracts.reliable.tenants.provision,
      drop: Contracts.reliable.tenants.drop,
      health: Contracts.reliable.health,
      usage: Contracts.reliable.tenants.usage,
    },
  },
  edge: {
    name: 'edge',
    service: 'edge-store',
    configPrefix: 'EDGE',
    dialects: ['postgres', 'mongodb'],
    defaultServerUrl: 'postgres://root@127.0.0.1:5432',
    catalogWrites: [],
    contracts: {
      provision: Contracts.edge.tenants.provision,
      drop: Contracts.edge.tenants.drop,
      health: Contracts.edge.health,
      usage: Contracts.edge.tenants.usage,
    },
  },
} as const satisfies { readonly [S in StoreName]: StoreManifest & { readonly name: S } };

/** The manifests in provisioning order. */
export function storeManifests(): StoreManifest[] {
  return STORE_NAMES.map((name) => STORE_MANIFESTS[name]);
}

const SCHEMES: Record<Dialect, readonly string[]> = {
  postgres: ['postgres:', 'postgresql:'],
  mysql: ['mysql:'],
  mariadb: ['mariadb:'],
  mongodb: ['mongodb:'],
};

/** URL schemes a server of the store may have (`postgres:`, `mysql:`, ...). */
export function serverSchemes(manifest: StoreManifest): string[] {
  return [...new Set(manifest.dialects.flatMap((dialect) => SCHEMES[dialect]))];
}
