import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Deleted tenants kept for a grace period: status `deleted`, the slug moved aside (`d-<id hex>`,
 * so it can be taken again at once) with the one it had kept in `former_slug`, and the instant
 * after which its data is destroyed (`purge_after`). Until then it can be restored.
 */
export class CatalogTenantRetirement1764208510000 implements MigrationInterface {
  name = 'CatalogTenantRetirement1764208510000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE tenants ADD COLUMN former_slug varchar(40) NULL');
    await q.query('ALTER TABLE tenants ADD COLUMN deleted_at timestamptz NULL');
    await q.query('ALTER TABLE tenants ADD COLUMN purge_after timestamptz NULL');
    await q.query('ALTER TABLE tenants DROP CONSTRAINT tenants_status_check');
    await q.query(
      `ALTER TABLE tenants ADD CONSTRAINT tenants_status_check CHECK (
         status IN ('provisioning', 'active', 'deleting', 'deleted')
         AND ((status = 'deleted') = (purge_after IS NOT NULL)))`,
    );
    await q.query(`CREATE INDEX tenants_purge_idx ON tenants (purge_after) WHERE status = 'deleted'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX tenants_purge_idx');
    await q.query('ALTER TABLE tenants DROP CONSTRAINT tenants_status_check');
    await q.query(
      `ALTER TABLE tenants ADD CONSTRAINT tenants_status_check CHECK (status IN ('provisioning', 'active', 'deleting'))`,
    );
    for (const column of ['purge_after', 'deleted_at', 'former_slug'])
      await q.query(`ALTER TABLE tenants DROP COLUMN ${column}`);
  }
}
