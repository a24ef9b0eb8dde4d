import { Contracts, type MessageClient } from '#polystore/messaging';
import type { TenantJob } from '../tenant-job.js';

const NAME = 'idempotency-purge';
const HOUR = 3_600_000;

/** Keys deleted per request to a store (one short statement pair each). */
export const IDEMPOTENCY_PURGE_BATCH = 1_000;

/** The stores that keep idempotency keys, by the contract that purges them. */
const PURGES = {
  secure: Contracts.secure.idempotency.purgeExpired,
  reliable: Contracts.reliable.idempotency.purgeExpired,
} as const;

/** Keys deleted for one tenant, by store. */
export type IdempotencyPurgeResult = Record<keyof typeof PURGES, number>;

/**
 * Retention of idempotency keys: every hour, each store that keeps them (secure: customer
 * creates; reliable: device, usage and status writes) deletes the tenant's keys past their
 * retention (`IDEMPOTENCY_TTL_MS`, 24 h by default), in batches until none is left. A request
 * replayed after its key was purged runs again: the documented contract of the key.
 */
export const idempotencyPurgeJob: TenantJob<IdempotencyPurgeResult> = {
  name: NAME,
  description: 'Idempotency keys past their retention (IDEMPOTENCY_TTL_MS) deleted in the secure and reliable stores',
  intervalMs: HOUR,
  tenantTimeoutMs: 60_000,
  concurrency: 4,

  async run(_tenant, { signal, messages }) {
    return {
      secure: await purge(messages, PURGES.secure, signal),
      reliable: await purge(messages, PURGES.reliable, signal),
    };
  },
};

async function purge(
  messages: MessageClient,
  contract: (typeof PURGES)[keyof typeof PURGES],
  signal: AbortSignal,
): Promise<number> {
  let total = 0;
  for (;;) {
    const { purged } = await messages.request(contract, { limit: IDEMPOTENCY_PURGE_BATCH });
    total += purged;
    if (purged < IDEMPOTENCY_PURGE_BATCH || signal.aborted) return total;
  }
}
