import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CatalogAdminService } from '#polystore/catalog';
import { runAsTenant, type TenantSlug } from '#polystore/tenancy';
import type { EdgeStoreConfig } from '../config.js';
import { EDGE_CONFIG } from '../edge.tokens.js';
import { ReadingRepository } from '../telemetry/reading.repository.js';

const BATCH = 5_000;

/**
 * Deletes readings older than `RETENTION_DAYS`, per tenant, in batches of 5,000 rows (short
 * transactions: ingest is never blocked behind a long delete). Runs every
 * `RETENTION_INTERVAL_MS`; `purgeTenant` is also callable by jobs.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RetentionService.name);
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly readings: ReadingRepository,
    private readonly catalog: CatalogAdminService,
    @Inject(EDGE_CONFIG) private readonly config: EdgeStoreConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.RETENTION_DAYS === 0) return;
    this.timer = setInterval(() => void this.purgeAll(), this.config.RETENTION_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** Deletes the tenant's readings older than `cutoff`; returns how many. */
  async purgeTenant(tenant: TenantSlug, cutoff: Date): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await runAsTenant(tenant, () => this.readings.deleteOlderThan(cutoff, BATCH), 60_000);
      total += deleted;
      if (deleted < BATCH || this.stopped) return total;
    }
  }

  private async purgeAll(): Promise<void> {
    const cutoff = new Date(Date.now() - this.config.RETENTION_DAYS * 86_400_000);
    const tenants = await this.catalog.listTenants().catch(() => []);
    for (const tenant of tenants) {
      if (this.stopped) return;
      if (tenant.status !== 'active' || !tenant.placements.some((p) => p.store === 'edge')) continue;
      try {
        const deleted = await this.purgeTenant(tenant.slug, cutoff);
        if (deleted > 0) this.logger.log({ tenant: tenant.slug, deleted }, 'old readings deleted');
      } catch (error) {
        this.logger.warn(
          { tenant: tenant.slug, code: (error as { code?: string }).code },
          'retention failed for a tenant; others continue',
        );
      }
    }
  }
}
