import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-tenant quotas and the last storage measurement. `tenant_quotas`: a tenant's own limits,
 * each null for "the deployment's default" (`QUOTA_*`), 0 for unlimited. `tenant_storage`: the
 * bytes its data took in each store when last measured (the gateway measures it at most every
 * `QUOTA_STORAGE_REFRESH_MS`, never per request). Both keyed by the tenant's immutable id and
 * deleted with its row.
 */
export class CatalogTenantQuotas1764208900000 implements MigrationInterface {
  name = 'CatalogTenantQuotas1764208900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenant_quotas (
        tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
        devices bigint CHECK (devices >= 0),
        customers bigint CHECK (customers >= 0),
        storage_bytes bigint CHECK (storage_bytes >= 0),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE tenant_storage (
        tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
        bytes bigint NOT NULL CHECK (bytes >= 0),
        by_store jsonb NOT NULL,
        measured_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE tenant_storage');
    await q.query('DROP TABLE tenant_quotas');
  }
}
