import { Controller, Get, Inject } from '@nestjs/common';
import { DataSourceRouter, serverPools } from '#polystore/data-router';
import { Contracts, Handles, MAX_HEALTH_CIRCUITS, type ResponseOf } from '#polystore/messaging';
import { RELIABLE_CONFIG, type ReliableStoreConfig } from '../config.js';

/**
 * Liveness over NATS (the gateway's readiness check) and HTTP. The NATS answer also carries the
 * pools of each database server the store uses (`pools`, from its router's in-memory counters).
 */
@Controller()
export class HealthHandler {
  constructor(
    @Inject(RELIABLE_CONFIG) private readonly config: ReliableStoreConfig,
    private readonly router: DataSourceRouter,
  ) {}

  @Handles(Contracts.reliable.health)
  ping(): ResponseOf<typeof Contracts.reliable.health> {
    return {
      status: 'ok',
      instance: this.config.INSTANCE_ID,
      pools: serverPools(this.router.stats()),
      circuits: this.router.openCircuits(MAX_HEALTH_CIRCUITS),
    };
  }

  @Get('health/live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
