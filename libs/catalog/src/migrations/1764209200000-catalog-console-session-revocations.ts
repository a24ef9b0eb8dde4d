import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Console sessions ended before their expiry (`POST /console/logout`): the session's nonce, kept
 * until the session would have expired (then it is no session anyway, and the row is purged).
 * The console's sessions are otherwise stateless (a signed cookie): this table is what lets one
 * be revoked on every gateway replica.
 */
export class CatalogConsoleSessionRevocations1764209200000 implements MigrationInterface {
  name = 'CatalogConsoleSessionRevocations1764209200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE console_session_revocations (
        nonce varchar(64) PRIMARY KEY,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX console_session_revocations_expiry_idx ON console_session_revocations (expires_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE console_session_revocations');
  }
}
