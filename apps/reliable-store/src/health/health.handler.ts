import { Controller, Get, Inject } from '@nestjs/common';
import { Contracts, Handles, type ResponseOf } from '#polystore/messaging';
import { RELIABLE_CONFIG, type ReliableStoreConfig } from '../config.js';

/** Liveness over NATS (the gateway's readiness check) and HTTP. */
@Controller()
export class HealthHandler {
  constructor(@Inject(RELIABLE_CONFIG) private readonly config: ReliableStoreConfig) {}

  @Handles(Contracts.reliable.health)
  ping(): ResponseOf<typeof Contracts.reliable.health> {
    return { status: 'ok', instance: this.config.INSTANCE_ID };
  }

  @Get('health/live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
