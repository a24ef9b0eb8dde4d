import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A step whose participant did not answer (unreachable, restarting, past its deadline) has an
 * unknown outcome: `unknown_since` and `retry_until` bound how long it is retried before the saga
 * gives up on it, `next_attempt_at` is the durable, jittered backoff (a resumed saga waits for it).
 */
export class SagaUnknownOutcome1764207000000 implements MigrationInterface {
  name = 'SagaUnknownOutcome1764207000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE saga_steps
        ADD COLUMN unknown_since timestamptz,
        ADD COLUMN retry_until timestamptz,
        ADD COLUMN next_attempt_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE saga_steps
        DROP COLUMN unknown_since,
        DROP COLUMN retry_until,
        DROP COLUMN next_attempt_at`);
  }
}
