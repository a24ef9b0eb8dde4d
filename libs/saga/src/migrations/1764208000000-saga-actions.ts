import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Operators' `Idempotency-Key`s for retry and skip: one row per key, inserted in the transaction
 * that changes the saga's state (a key exists if and only if its action happened), deleted with
 * its saga, and purged by the orchestrator's sweeper once past its retention (`created_at`).
 */
export class SagaActions1764208000000 implements MigrationInterface {
  name = 'SagaActions1764208000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE saga_actions (
        key varchar(200) PRIMARY KEY,
        saga_id uuid NOT NULL REFERENCES sagas(id) ON DELETE CASCADE,
        action varchar(16) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX saga_actions_created_idx ON saga_actions (created_at)');
    await q.query('CREATE INDEX saga_actions_saga_idx ON saga_actions (saga_id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE saga_actions');
  }
}
