import { Controller, Get, Inject } from '@nestjs/common';
import { DataSourceRouter, serverPools } from '#polystore/data-router';
import { Contracts, Handles, MAX_HEALTH_CIRCUITS, type ResponseOf } from '#polystore/messaging';
import { INSTANCE_ID } from '../secure.tokens.js';

/**
 * Liveness over NATS (the gateway's readiness check) and HTTP. The NATS answer also carries the
 * pools of each database server the store uses (`pools`, from its router's in-memory counters).
 */
@Controller()
export class HealthHandler {
  constructor(
    @Inject(INSTANCE_ID) private readonly instance: string,
    private readonly router: DataSourceRouter,
  ) {}

  @Handles(Contracts.secure.health)
  ping(): ResponseOf<typeof Contracts.secure.health> {
    return {
      status: 'ok',
      instance: this.instance,
      pools: serverPools(this.router.stats()),
      circuits: this.router.openCircuits(MAX_HEALTH_CIRCUITS),
    };
  }

  @Get('health/live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
