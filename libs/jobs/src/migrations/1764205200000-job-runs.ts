import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Runs of jobs over tenants, in the system database: one row a run (with the lease of the
 * process driving it) and one row a finished tenant (the checkpoint a resumed run skips).
 */
export class JobRuns1764205200000 implements MigrationInterface {
  name = 'JobRuns1764205200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE job_runs (
        id uuid PRIMARY KEY,
        job varchar(64) NOT NULL,
        slot timestamptz,
        params jsonb NOT NULL DEFAULT '{}'::jsonb,
        state varchar(16) NOT NULL,
        owner varchar(100),
        lease_until timestamptz,
        total integer NOT NULL DEFAULT 0,
        ok integer NOT NULL DEFAULT 0,
        failed integer NOT NULL DEFAULT 0,
        skipped integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`);
    // One run per scheduled slot, whatever the number of replicas.
    await q.query('CREATE UNIQUE INDEX job_runs_slot_uq ON job_runs (job, slot) WHERE slot IS NOT NULL');
    await q.query(`CREATE INDEX job_runs_open_idx ON job_runs (job, lease_until) WHERE state = 'RUNNING'`);
    await q.query('CREATE INDEX job_runs_job_idx ON job_runs (job, created_at)');
    await q.query(`
      CREATE TABLE job_run_tenants (
        run_id uuid NOT NULL REFERENCES job_runs(id) ON DELETE CASCADE,
        tenant varchar(40) NOT NULL,
        status varchar(8) NOT NULL,
        duration_ms integer NOT NULL,
        error jsonb,
        result jsonb,
        finished_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (run_id, tenant)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE job_run_tenants');
    await q.query('DROP TABLE job_runs');
  }
}
