import { Injectable, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import {
  CatalogService,
  placementDatabasePrefix,
  storeRuntimeLoginName,
  SYSTEM_DATA_SOURCE,
  type StoreName,
} from '#polystore/catalog';
import type { DataSource } from 'typeorm';
import {
  DataSourceRouter,
  registerDataRouterMetrics,
  type RuntimeLogin,
  type StoreSchema,
  type StoreSchemaByDialect,
} from '#polystore/data-router';
import { Contracts } from '#polystore/messaging';
import { METRICS_REGISTRY, deriveKey } from '#polystore/platform';
import type { Registry } from 'prom-client';
import { LeaseScopeInterceptor } from './lease-scope.interceptor.js';
import { TenantDatabaseProvisioner } from './tenant-database.provisioner.js';
import { tenantUsageHandler } from './tenant-usage.handler.js';

/** Limits of a store's tenant DataSources (see `DataSourceRouterOptions`). */
export interface TenantDataLimits {
  readonly poolSize: number;
  readonly connectionBudget: number;
  /** Fraction of the server's usable connections this process may hold (`<STORE>_DB_SERVER_SHARE`). */
  readonly serverShare: number;
  /** Connections left aside on each server (`<STORE>_DB_SERVER_RESERVE`). */
  readonly serverReserve: number;
  readonly sharedPoolSize: number;
  /** PostgreSQL shared pools: lanes (0: one per 5 connections). */
  readonly sharedPoolLanes: number;
  readonly tenantCap?: number;
  readonly connectionMaxUses: number;
  readonly connectionMaxAgeMs: number;
  readonly idleTtlMs: number;
  readonly maxWaiters: number;
  readonly acquireTimeoutMs: number;
  readonly circuitFailures: number;
  readonly circuitHalfOpenMs: number;
  /** Longest wait for a new connection (default 3 s). */
  readonly connectTimeoutMs?: number;
  /** Export the router's per-tenant series too (`METRICS_TENANT_LABELS`; off: no tenant label). */
  readonly metricsTenantLabels?: boolean;
}

export interface TenantDataOptions {
  readonly store: StoreName;
  /** The store's schema, or a function of the server's dialect giving it. */
  readonly schema: StoreSchema | StoreSchemaByDialect;
  readonly limits: TenantDataLimits;
  /** `application_name` of the store's connections. */
  readonly applicationName: string;
  /** The store's own key (`storeKeyOf`): derives the password of its runtime login role (see {@link runtimeLogin}). */
  readonly storeKey: Buffer;
}

/**
 * The login role of a store's PostgreSQL shared pools: `ps_<store>_runtime`, `NOINHERIT`, a member
 * of the store's tenant roles only; its password derives from the store's own key, so every
 * replica knows it, none stores it, and no other store can derive it.
 */
export function runtimeLogin(store: StoreName, storeKey: Buffer): RuntimeLogin {
  return {
    username: storeRuntimeLoginName(store),
    password: deriveKey(storeKey, 'polystore/runtime-login').toString('base64url'),
    databasePrefix: placementDatabasePrefix(store),
    batchRole: storeBatchRole(store),
  };
}

/**
 * The store-wide role of a store's units spanning tenants on a PostgreSQL server
 * (`ps_<store>_batch`, see `RuntimeLogin.batchRole`): created with the runtime login, a member of
 * nothing, granted table rights only by the store's own migrations (today the secure store's, for
 * its audit appends; the edge store's role holds none).
 */
export function storeBatchRole(store: StoreName): string {
  return `ps_${store}_batch`;
}

@Injectable()
class RouterLifecycle implements OnApplicationShutdown {
  private readonly logger = new Logger('TenantData');

  constructor(
    private readonly router: DataSourceRouter,
    private readonly catalog: CatalogService,
  ) {
    // A changed tenant (moved, deleted) must not keep using its old DataSource.
    catalog.onTenantChanged((tenant) => router.retire(tenant));
  }

  async onApplicationShutdown(): Promise<void> {
    const closed = await this.router.close();
    this.logger.log({ closed }, `data sources closed: ${closed}`);
  }
}

/**
 * A store's tenant databases: one {@link DataSourceRouter} resolving placements through the
 * catalog (never from the caller), retiring DataSources when a tenant changes, exporting its
 * stats as metrics, and closing every DataSource at shutdown after in-flight work; and the
 * {@link TenantDatabaseProvisioner} that creates and drops the tenant's database; and the
 * handler of the store's `<store>.tenants.usage` (bytes and row counts, for the gateway's quotas).
 */
@Module({})
export class TenantDataModule {
  static forStore(options: TenantDataOptions): DynamicModule {
    return {
      module: TenantDataModule,
      global: true,
      controllers: [tenantUsageHandler(Contracts[options.store].tenants.usage)],
      providers: [
        {
          provide: DataSourceRouter,
          inject: [CatalogService, METRICS_REGISTRY],
          useFactory: (catalog: CatalogService, metrics: Registry) => {
            const router = new DataSourceRouter({
              name: options.store,
              resolvePlacement: (tenant) => catalog.getPlacement(tenant, options.store),
              schema: options.schema,
              poolSize: options.limits.poolSize,
              connectionBudget: options.limits.connectionBudget,
              serverShare: { share: options.limits.serverShare, reserve: options.limits.serverReserve },
              sharedPoolSize: options.limits.sharedPoolSize,
              sharedPoolLanes: options.limits.sharedPoolLanes,
              ...(options.limits.tenantCap ? { tenantCap: options.limits.tenantCap } : {}),
              connectionMaxUses: options.limits.connectionMaxUses,
              connectionMaxAgeMs: options.limits.connectionMaxAgeMs,
              sharedLogin: () => runtimeLogin(options.store, options.storeKey),
              idleTtlMs: options.limits.idleTtlMs,
              maxWaiters: options.limits.maxWaiters,
              acquireTimeoutMs: options.limits.acquireTimeoutMs,
              breaker: {
                consecutiveFailures: options.limits.circuitFailures,
                halfOpenAfterMs: options.limits.circuitHalfOpenMs,
              },
              applicationName: options.applicationName,
              connectTimeoutMs: options.limits.connectTimeoutMs,
            });
            registerDataRouterMetrics(router, metrics, { tenantLabels: options.limits.metricsTenantLabels === true });
            return router;
          },
        },
        {
          provide: TenantDatabaseProvisioner,
          inject: [CatalogService, DataSourceRouter, SYSTEM_DATA_SOURCE],
          useFactory: (catalog: CatalogService, router: DataSourceRouter, systemDb: DataSource) =>
            new TenantDatabaseProvisioner(
              options.store,
              catalog,
              router,
              systemDb,
              runtimeLogin(options.store, options.storeKey),
            ),
        },
        RouterLifecycle,
        { provide: APP_INTERCEPTOR, useClass: LeaseScopeInterceptor },
      ],
      exports: [DataSourceRouter, TenantDatabaseProvisioner],
    };
  }
}

/** Reads a store's `<PREFIX>_DB_*` variables into {@link TenantDataLimits}. */
export function tenantDataLimits(config: Record<string, unknown>, prefix: string): TenantDataLimits {
  const get = (name: string) => config[`${prefix}_DB_${name}`] as number;
  return {
    poolSize: get('POOL_SIZE'),
    connectionBudget: get('CONNECTION_BUDGET'),
    serverShare: get('SERVER_SHARE') / 100,
    serverReserve: get('SERVER_RESERVE'),
    sharedPoolSize: get('SHARED_POOL_SIZE'),
    sharedPoolLanes: get('SHARED_POOL_LANES'),
    ...(get('TENANT_CAP') ? { tenantCap: get('TENANT_CAP') } : {}),
    connectionMaxUses: get('CONNECTION_MAX_USES'),
    connectionMaxAgeMs: get('CONNECTION_MAX_AGE_MS'),
    idleTtlMs: get('IDLE_TTL_MS'),
    maxWaiters: get('MAX_WAITERS'),
    acquireTimeoutMs: get('ACQUIRE_TIMEOUT_MS'),
    circuitFailures: get('CIRCUIT_FAILURES'),
    circuitHalfOpenMs: get('CIRCUIT_HALF_OPEN_MS'),
    connectTimeoutMs: get('CONNECT_TIMEOUT_MS'),
    metricsTenantLabels: config['METRICS_TENANT_LABELS'] === true,
  };
}
