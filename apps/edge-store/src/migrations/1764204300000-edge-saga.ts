import { createSagaInboxTable, dropSagaInboxTable } from '#polystore/saga';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The saga inbox of the edge store (PostgreSQL). */
export class EdgeSaga1764204300000 implements MigrationInterface {
  name = 'EdgeSaga1764204300000';

  async up(q: QueryRunner): Promise<void> {
    await createSagaInboxTable(q);
  }

  async down(q: QueryRunner): Promise<void> {
    await dropSagaInboxTable(q);
  }
}
