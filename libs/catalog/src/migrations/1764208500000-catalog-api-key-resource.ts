import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API keys as a resource: a name, scopes (`full`, `read-only`, `devices`), an optional expiry,
 * when the key was last used (recorded coarsely), and the key that replaced it on rotation.
 * Every key made before scopes existed is `full`, named `default`, and never expires.
 */
export class CatalogApiKeyResource1764208500000 implements MigrationInterface {
  name = 'CatalogApiKeyResource1764208500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE api_keys ADD COLUMN name varchar(100) NOT NULL DEFAULT 'default'`);
    await q.query(`ALTER TABLE api_keys ADD COLUMN scopes text[] NOT NULL DEFAULT '{full}'`);
    await q.query('ALTER TABLE api_keys ADD COLUMN expires_at timestamptz NULL');
    await q.query('ALTER TABLE api_keys ADD COLUMN last_used_at timestamptz NULL');
    await q.query('ALTER TABLE api_keys ADD COLUMN replaced_by uuid NULL');
    await q.query(
      `ALTER TABLE api_keys ADD CONSTRAINT api_keys_scopes_check CHECK (
         cardinality(scopes) > 0 AND scopes <@ ARRAY['full', 'read-only', 'devices']::text[])`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE api_keys DROP CONSTRAINT api_keys_scopes_check');
    for (const column of ['replaced_by', 'last_used_at', 'expires_at', 'scopes', 'name'])
      await q.query(`ALTER TABLE api_keys DROP COLUMN ${column}`);
  }
}
