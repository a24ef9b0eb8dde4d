import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Device credentials (hashed), readings (unique per device + seq), dead letters. */
export class EdgeInit1764203000000 implements MigrationInterface {
  name = 'EdgeInit1764203000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE device_credentials (
        device_id uuid PRIMARY KEY,
        token_hash bytea NOT NULL,
        generation integer NOT NULL,
        status varchar(16) NOT NULL CHECK (status IN ('active', 'revoked')),
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE readings (
        device_id uuid NOT NULL,
        seq bigint NOT NULL,
        ts timestamptz NOT NULL,
        received_at timestamptz NOT NULL,
        metrics jsonb NOT NULL,
        PRIMARY KEY (device_id, seq)
      )`);
    await q.query('CREATE INDEX readings_device_ts_idx ON readings (device_id, ts)');
    // Retention deletes by time: a BRIN index costs almost nothing to maintain on append-mostly data.
    await q.query('CREATE INDEX readings_ts_brin ON readings USING brin (ts)');
    await q.query(`
      CREATE TABLE dead_letters (
        id bigserial PRIMARY KEY,
        device_id uuid,
        reason varchar(500) NOT NULL,
        payload bytea NOT NULL,
        received_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE dead_letters');
    await q.query('DROP TABLE readings');
    await q.query('DROP TABLE device_credentials');
  }
}
