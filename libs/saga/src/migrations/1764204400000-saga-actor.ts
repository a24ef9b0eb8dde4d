import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Who started a saga (an API key id or `admin`, never a name): its steps run, and are audited, as them. */
export class SagaActor1764204400000 implements MigrationInterface {
  name = 'SagaActor1764204400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE sagas ADD COLUMN actor varchar(200)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE sagas DROP COLUMN actor');
  }
}
