import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What operators did through the console (`admin_audit`): one row per action, failures included
 * (`outcome` is `ok` or the error code). `actor` names the console session (`console:<first 8
 * characters of its nonce>`), never the admin token; `detail` holds no secret. Read newest first
 * (by `id`, the primary key).
 */
export class CatalogAdminAudit1764209000000 implements MigrationInterface {
  name = 'CatalogAdminAudit1764209000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE admin_audit (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,
        action text NOT NULL,
        target text,
        outcome text NOT NULL,
        detail jsonb
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE admin_audit');
  }
}
