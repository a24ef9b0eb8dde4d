import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Contracts, Handles, type ParsedRequestOf, type ResponseOf } from '#polystore/messaging';
import { UsageService } from './usage.service.js';

const U = Contracts.reliable.usage;

/** NATS handlers of the usage ledger. */
@Controller()
export class UsageHandler {
  constructor(private readonly usage: UsageService) {}

  @Handles(U.upsert)
  upsert(@Payload() request: ParsedRequestOf<typeof U.upsert>): Promise<ResponseOf<typeof U.upsert>> {
    return this.usage.upsert(request);
  }

  @Handles(U.query)
  query(@Payload() request: ParsedRequestOf<typeof U.query>): Promise<ResponseOf<typeof U.query>> {
    return this.usage.query(request);
  }
}
