import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CustomerRow } from '../customer-row.entity.js';

/** Where one tenant's `customers` table is: its schema in the shared database, or its own database. */
export interface NaiveTenantPlacement {
  readonly database: string;
  readonly schema?: string;
}

/** What bench/run.mjs passes to the naive baseline. */
export interface NaiveSettings {
  /** `postgres://user@host:port` (no database). */
  readonly serverUrl: string;
  /** Tenant slug -> placement, as `GET /admin/tenants` listed it. */
  readonly tenants: ReadonlyMap<string, NaiveTenantPlacement>;
  /** Connections of each tenant's DataSource. */
  readonly poolSize: number;
  readonly applicationName: string;
}

export const NAIVE_SETTINGS = Symbol('NAIVE_SETTINGS');

/**
 * The naive pattern's registry (a singleton): one TypeORM DataSource per tenant, created on the
 * tenant's first request and cached in a Map for the life of the process: no budget, no
 * eviction, no sharing between tenants. Concurrent first requests of a tenant share one
 * initialization (the promise is cached), so the process never opens more than
 * tenants x pool size connections.
 */
@Injectable()
export class TenantDataSources implements OnApplicationShutdown {
  private readonly dataSources = new Map<string, Promise<DataSource>>();

  constructor(@Inject(NAIVE_SETTINGS) private readonly settings: NaiveSettings) {}

  /** The tenant's DataSource, created on first use; null for an unknown tenant. */
  get(tenant: string): Promise<DataSource> | null {
    const existing = this.dataSources.get(tenant);
    if (existing) return existing;
    const placement = this.settings.tenants.get(tenant);
    if (!placement) return null;
    const url = new URL(this.settings.serverUrl);
    url.pathname = `/${placement.database}`;
    const created = new DataSource({
      type: 'postgres',
      url: url.toString(),
      ...(placement.schema ? { schema: placement.schema } : {}),
      entities: [CustomerRow],
      poolSize: this.settings.poolSize,
      applicationName: this.settings.applicationName,
      extra: { max: this.settings.poolSize },
    }).initialize();
    this.dataSources.set(tenant, created);
    // A failed initialization is not cached: the tenant's next request tries again.
    created.catch(() => this.dataSources.delete(tenant));
    return created;
  }

  async onApplicationShutdown(): Promise<void> {
    const all = await Promise.allSettled([...this.dataSources.values()]);
    const open = all.flatMap((r) => (r.status === 'fulfilled' && r.value.isInitialized ? [r.value] : []));
    await Promise.all(open.map((dataSource) => dataSource.destroy()));
  }
}
