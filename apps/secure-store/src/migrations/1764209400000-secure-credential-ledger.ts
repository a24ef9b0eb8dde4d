import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `device_credentials` becomes the history of each device's credential generations: one row per
 * generation (issued at registration or by a rotation), `revoked_at` set by the next rotation or
 * the device's deletion. The token hash goes: it was the hash of a token derived from the master
 * key that no device ever held (the credential is the edge store's JWT), with a generation fixed
 * at 1 whatever the edge store had issued.
 */
export class SecureCredentialLedger1764209400000 implements MigrationInterface {
  name = 'SecureCredentialLedger1764209400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE device_credentials
        DROP CONSTRAINT device_credentials_pkey,
        DROP COLUMN token_hash,
        ADD COLUMN revoked_at timestamptz,
        ADD PRIMARY KEY (device_id, generation)`);
  }

  async down(q: QueryRunner): Promise<void> {
    // Back to one row per device: its latest generation; the hash cannot be recovered (none was ever used).
    await q.query(`
      DELETE FROM device_credentials d
       WHERE EXISTS (SELECT 1 FROM device_credentials n WHERE n.device_id = d.device_id AND n.generation > d.generation)`);
    await q.query(`
      ALTER TABLE device_credentials
        DROP CONSTRAINT device_credentials_pkey,
        DROP COLUMN revoked_at,
        ADD COLUMN token_hash bytea NOT NULL DEFAULT '\\x'::bytea,
        ADD PRIMARY KEY (device_id)`);
    await q.query('ALTER TABLE device_credentials ALTER COLUMN token_hash DROP DEFAULT');
  }
}
