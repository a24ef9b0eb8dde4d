import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Tenant keys, customers (sealed PII + blind index) and the hash-chained audit log. */
export class SecureInit1764201700000 implements MigrationInterface {
  name = 'SecureInit1764201700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenant_keys (
        id integer PRIMARY KEY,
        wrapped_key bytea NOT NULL,
        active boolean NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE customers (
        id uuid PRIMARY KEY,
        name_ct bytea NOT NULL,
        email_ct bytea NOT NULL,
        phone_ct bytea,
        email_bidx bytea NOT NULL,
        key_id integer NOT NULL REFERENCES tenant_keys(id),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX customers_email_bidx_idx ON customers (email_bidx)');
    await q.query(`
      CREATE TABLE audit_entries (
        seq bigint PRIMARY KEY,
        at timestamptz NOT NULL,
        action varchar(32) NOT NULL,
        subject_id uuid,
        actor varchar(64),
        correlation_id varchar(64) NOT NULL,
        outcome varchar(16) NOT NULL,
        prev_hash bytea NOT NULL,
        hash bytea NOT NULL
      )`);
    await q.query(`
      CREATE TABLE audit_head (
        id smallint PRIMARY KEY CHECK (id = 1),
        seq bigint NOT NULL,
        hash bytea NOT NULL
      )`);
    await q.query(`INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE audit_head');
    await q.query('DROP TABLE audit_entries');
    await q.query('DROP TABLE customers');
    await q.query('DROP TABLE tenant_keys');
  }
}
