import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Long operations requested from the console and run by `polystore ops worker` (`operations`):
 * a placement move or a tenant's migrations in one store. The console records the intent (it
 * holds no administrative database access); a worker claims it (`FOR UPDATE SKIP LOCKED`), holds
 * a lease it renews while it runs, appends each phase to `events` and writes the report or the
 * error. At most one queued or running operation per tenant and store
 * (`operations_one_active`). Deleted with the tenant's row.
 */
export class CatalogOperations1764209100000 implements MigrationInterface {
  name = 'CatalogOperations1764209100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE operations (
        id uuid PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('move', 'migrate')),
        tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
        tenant_slug text NOT NULL,
        store varchar(32) NOT NULL,
        params jsonb NOT NULL DEFAULT '{}'::jsonb,
        state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
        phase text,
        events jsonb NOT NULL DEFAULT '[]'::jsonb,
        report jsonb,
        error_code text,
        error_message text,
        requested_by text NOT NULL,
        worker text,
        lease_until timestamptz,
        attempts integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE UNIQUE INDEX operations_one_active ON operations (tenant_id, store) WHERE state IN ('queued', 'running')`,
    );
    // What workers scan: the queue, and running operations whose lease may have expired.
    await q.query(`CREATE INDEX operations_open ON operations (created_at) WHERE state IN ('queued', 'running')`);
    await q.query('CREATE INDEX operations_created ON operations (created_at DESC)');
    await q.query('CREATE INDEX operations_tenant ON operations (tenant_id, created_at DESC)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE operations');
  }
}
