import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';
import { TenantAdminService } from './tenant-admin.service.js';

/**
 * Destroys the data of deleted tenants whose grace period is over, every
 * `TENANT_PURGE_INTERVAL_MS` in each gateway. Replicas may meet the same tenant: a purge is
 * idempotent (each store drops under its tenant lock; the catalog row goes by id), and a tenant
 * found due can no longer be restored (the catalog compares with its own clock).
 */
@Injectable()
export class TenantPurger implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(TenantPurger.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly tenants: TenantAdminService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => {
      this.running ??= this.tick().finally(() => (this.running = undefined));
    }, this.config.TENANT_PURGE_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async tick(): Promise<void> {
    try {
      await this.tenants.purgeDue();
    } catch (error) {
      // The next tick tries again; a store that is down delays the purge, never loses it.
      this.logger.warn(`purging deleted tenants failed: ${(error as Error).message}`);
    }
  }
}
