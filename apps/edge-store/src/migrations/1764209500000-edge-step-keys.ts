import { moveIdempotencyKeysToInbox, moveInboxToIdempotencyKeys } from '#polystore/saga';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One once-only mechanism: the saga participant fence's steps move from `saga_inbox` into an
 * `idempotency_keys` table like the other stores' (as `saga/<sagaId>/<step>`, kept without
 * expiry). The edge store takes no HTTP idempotency keys; its saga steps are the table's keys.
 */
export class EdgeStepKeys1764209500000 implements MigrationInterface {
  name = 'EdgeStepKeys1764209500000';

  async up(q: QueryRunner): Promise<void> {
    await moveInboxToIdempotencyKeys(q, { existed: false });
  }

  async down(q: QueryRunner): Promise<void> {
    await moveIdempotencyKeysToInbox(q, { existed: false });
  }
}
