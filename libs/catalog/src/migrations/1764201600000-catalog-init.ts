import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Tenants, their placements per store, and their API keys (hashed). */
export class CatalogInit1764201600000 implements MigrationInterface {
  name = 'CatalogInit1764201600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenants (
        id uuid PRIMARY KEY,
        slug varchar(40) NOT NULL UNIQUE CHECK (slug ~ '^[a-z][a-z0-9-]{1,39}$'),
        name varchar(200) NOT NULL,
        status varchar(16) NOT NULL CHECK (status IN ('provisioning', 'active', 'deleting')),
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE placements (
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        store varchar(32) NOT NULL,
        server_url varchar(500) NOT NULL,
        server_secret bytea,
        database_name varchar(63) NOT NULL CHECK (database_name ~ '^[a-z][a-z0-9_]{0,62}$'),
        version integer NOT NULL DEFAULT 1,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, store)
      )`);
    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        key_hash bytea NOT NULL UNIQUE,
        prefix varchar(16) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
    await q.query('CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE api_keys');
    await q.query('DROP TABLE placements');
    await q.query('DROP TABLE tenants');
  }
}
