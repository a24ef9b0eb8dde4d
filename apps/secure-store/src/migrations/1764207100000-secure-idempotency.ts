import { createIdempotencyTable, dropIdempotencyTable } from '#polystore/idempotency';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency keys of the secure store's writes (`POST /v1/customers` with `Idempotency-Key`):
 * stored with the effect in its transaction. Their fingerprint is keyed by the tenant and their
 * result holds identifiers only, never PII.
 */
export class SecureIdempotency1764207100000 implements MigrationInterface {
  name = 'SecureIdempotency1764207100000';

  async up(q: QueryRunner): Promise<void> {
    await createIdempotencyTable(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await dropIdempotencyTable(q);
  }
}
