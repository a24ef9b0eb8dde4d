import { Controller, Get, Inject } from '@nestjs/common';
import { Contracts, Handles, type ResponseOf } from '#polystore/messaging';
import type { EdgeStoreConfig } from '../config.js';
import { EDGE_CONFIG } from '../edge.tokens.js';

/** Liveness over NATS (the gateway's readiness check) and HTTP. */
@Controller()
export class HealthHandler {
  constructor(@Inject(EDGE_CONFIG) private readonly config: EdgeStoreConfig) {}

  @Handles(Contracts.edge.health)
  ping(): ResponseOf<typeof Contracts.edge.health> {
    return { status: 'ok', instance: this.config.INSTANCE_ID };
  }

  @Get('health/live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
