import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The master key version that wrapped each tenant data key (`MASTER_KEY` may list several, so it
 * can be rotated). Keys wrapped before versions existed were wrapped by the only key there was,
 * which a bare `MASTER_KEY` still is: version 1.
 */
export class SecureKekVersion1764207600000 implements MigrationInterface {
  name = 'SecureKekVersion1764207600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE tenant_keys ADD COLUMN kek_version smallint NOT NULL DEFAULT 1');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE tenant_keys DROP COLUMN kek_version');
  }
}
