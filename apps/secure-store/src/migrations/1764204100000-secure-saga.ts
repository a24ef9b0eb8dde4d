import { createSagaInboxTable, dropSagaInboxTable } from '#polystore/saga';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Device credentials (hashed) and the saga inbox of the secure store. */
export class SecureSaga1764204100000 implements MigrationInterface {
  name = 'SecureSaga1764204100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE device_credentials (
        device_id uuid PRIMARY KEY,
        token_hash bytea NOT NULL,
        generation integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await createSagaInboxTable(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await dropSagaInboxTable(q);
    await q.query('DROP TABLE device_credentials');
  }
}
