import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Lets the store's batch role (`ps_secure_batch`, `AUDIT_APPENDER_ROLE`) advance this tenant's
 * audit chain, so the store appends the audit records of many tenants of one server in one
 * statement: `USAGE` on the tenant's schema, `INSERT` on `audit_entries`, `SELECT, UPDATE` on
 * `audit_head` (the compare-and-set of the head), and nothing else: the role reads no customer, no
 * key, no audit record. Granted by the tenant's own role (the owner), only on a schema placement
 * of a server where the role exists (created with the runtime login, see `SchemaAdmin`); elsewhere
 * (a database of the tenant's own, or a server provisioned before the role existed) nothing is
 * granted and the store appends that tenant's records in transactions of the tenant's own.
 */
export class SecureAuditAppender1764209300000 implements MigrationInterface {
  name = 'SecureAuditAppender1764209300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      DO $$ BEGIN
        IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'ps_secure_batch') AND current_schema() <> 'public' THEN
          EXECUTE format('GRANT USAGE ON SCHEMA %I TO ps_secure_batch', current_schema());
          GRANT INSERT ON audit_entries TO ps_secure_batch;
          GRANT SELECT, UPDATE ON audit_head TO ps_secure_batch;
        END IF;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DO $$ BEGIN
        IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'ps_secure_batch') AND current_schema() <> 'public' THEN
          REVOKE ALL ON audit_head FROM ps_secure_batch;
          REVOKE ALL ON audit_entries FROM ps_secure_batch;
          EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM ps_secure_batch', current_schema());
        END IF;
      END $$`);
  }
}
