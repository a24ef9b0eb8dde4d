import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The saga log, in the system database: sagas, their steps, and semantic locks. */
export class SagaLog1764204000000 implements MigrationInterface {
  name = 'SagaLog1764204000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sagas (
        id uuid PRIMARY KEY,
        name varchar(64) NOT NULL,
        version integer NOT NULL,
        tenant varchar(40),
        state varchar(24) NOT NULL,
        input jsonb NOT NULL,
        output jsonb,
        error jsonb,
        deadline_at timestamptz NOT NULL,
        lease_owner varchar(100),
        lease_until timestamptz,
        fence bigint NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX sagas_recovery_idx ON sagas (lease_until) WHERE state IN ('PENDING', 'RUNNING', 'COMPENSATING')`,
    );
    await q.query('CREATE INDEX sagas_state_idx ON sagas (state, created_at)');
    await q.query('CREATE INDEX sagas_tenant_idx ON sagas (tenant, created_at)');
    await q.query(`
      CREATE TABLE saga_steps (
        saga_id uuid NOT NULL REFERENCES sagas(id) ON DELETE CASCADE,
        step varchar(64) NOT NULL,
        position integer NOT NULL,
        grp integer NOT NULL,
        state varchar(24) NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        compensation_attempts integer NOT NULL DEFAULT 0,
        output jsonb,
        error jsonb,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (saga_id, step)
      )`);
    await q.query(`
      CREATE TABLE saga_locks (
        resource varchar(200) PRIMARY KEY,
        saga_id uuid NOT NULL REFERENCES sagas(id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE saga_locks');
    await q.query('DROP TABLE saga_steps');
    await q.query('DROP TABLE sagas');
  }
}
