import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A tenant can be restored under another slug, so nothing may stay bound to the slug:
 * `key_label` is what the stores bind the tenant's ciphertexts and chains to (AAD). It never
 * changes: the tenant's id for tenants created from now on; for tenants created before, the slug
 * they had then (their data is bound to it, and no slug changed before this migration).
 */
export class CatalogKeyLabel1764208520000 implements MigrationInterface {
  name = 'CatalogKeyLabel1764208520000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE tenants ADD COLUMN key_label varchar(64) NULL');
    await q.query('UPDATE tenants SET key_label = COALESCE(former_slug, slug)');
    await q.query('ALTER TABLE tenants ALTER COLUMN key_label SET NOT NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE tenants DROP COLUMN key_label');
  }
}
