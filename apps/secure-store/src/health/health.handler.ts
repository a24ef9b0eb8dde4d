import { Controller, Get, Inject } from '@nestjs/common';
import { Contracts, Handles, type ResponseOf } from '#polystore/messaging';
import { INSTANCE_ID } from '../secure.tokens.js';

/** Liveness over NATS (the gateway's readiness check) and HTTP. */
@Controller()
export class HealthHandler {
  constructor(@Inject(INSTANCE_ID) private readonly instance: string) {}

  @Handles(Contracts.secure.health)
  ping(): ResponseOf<typeof Contracts.secure.health> {
    return { status: 'ok', instance: this.instance };
  }

  @Get('health/live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
