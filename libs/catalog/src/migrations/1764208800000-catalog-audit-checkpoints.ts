import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The latest signed checkpoint of each tenant's audit chain (written by the secure store): the
 * head's `seq` and hash at `at`, signed with a key derived from the master key version
 * `key_version`. Kept outside the tenant's database, so deleting the newest records there (and
 * moving the chain's head back) is detected. Keyed by the tenant's immutable id; deleted with
 * the tenant's row.
 */
export class CatalogAuditCheckpoints1764208800000 implements MigrationInterface {
  name = 'CatalogAuditCheckpoints1764208800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_checkpoints (
        tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
        seq bigint NOT NULL CHECK (seq > 0),
        head_hash bytea NOT NULL CHECK (octet_length(head_hash) = 32),
        at timestamptz NOT NULL,
        key_version smallint NOT NULL CHECK (key_version > 0),
        signature bytea NOT NULL CHECK (octet_length(signature) = 32)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE audit_checkpoints');
  }
}
