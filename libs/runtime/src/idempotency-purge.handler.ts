import { Controller, Inject, type Type } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { IdempotentExecutor } from '#polystore/idempotency';
import { Handles, type Contract } from '#polystore/messaging';

/**
 * The NATS handler of a store's `<store>.idempotency.purge-expired` (the idempotency-purge job):
 * deletes up to `limit` keys of the current tenant past their retention, with the store's
 * {@link IdempotentExecutor}. A store registers the class this returns for its own contract.
 */
export function idempotencyPurgeHandler(contract: Contract): Type<unknown> {
  @Controller()
  class IdempotencyPurgeHandler {
    constructor(@Inject(IdempotentExecutor) private readonly executor: IdempotentExecutor) {}

    @Handles(contract)
    async purgeExpired(@Payload() request: { limit: number }): Promise<{ purged: number }> {
      return { purged: await this.executor.purgeExpired(request.limit) };
    }
  }
  return IdempotencyPurgeHandler;
}
