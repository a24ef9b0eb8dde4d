import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The immutable id of a saga's tenant beside its slug: the slug routes the steps, the id says
 * whose saga it is, so a tenant created again under a reused slug never sees, joins or is
 * blocked by the sagas of the one deleted before it. Sagas logged before stay NULL (slug only).
 */
export class SagaTenantId1764208700000 implements MigrationInterface {
  name = 'SagaTenantId1764208700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE sagas ADD COLUMN tenant_id uuid');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE sagas DROP COLUMN tenant_id');
  }
}
