import { moveIdempotencyKeysToInbox, moveInboxToIdempotencyKeys } from '#polystore/saga';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One once-only mechanism: the saga participant fence's steps move from `saga_inbox` into
 * `idempotency_keys` (as `saga/<sagaId>/<step>`, kept without expiry), which gains a state.
 */
export class ReliableStepKeys1764209500000 implements MigrationInterface {
  name = 'ReliableStepKeys1764209500000';

  async up(q: QueryRunner): Promise<void> {
    await moveInboxToIdempotencyKeys(q, { existed: true });
  }

  async down(q: QueryRunner): Promise<void> {
    await moveIdempotencyKeysToInbox(q, { existed: true });
  }
}
