import { createSagaInboxTable, dropSagaInboxTable } from '#polystore/saga';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The saga inbox of the reliable store (MariaDB/MySQL or PostgreSQL). */
export class ReliableSaga1764204200000 implements MigrationInterface {
  name = 'ReliableSaga1764204200000';

  async up(q: QueryRunner): Promise<void> {
    await createSagaInboxTable(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await dropSagaInboxTable(q);
  }
}
