import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SYSTEM_DATA_SOURCE } from './catalog.tokens.js';

/**
 * Console sessions revoked before their expiry (`console_session_revocations`), by nonce: the
 * console's logout writes one, its session guard asks on every request (one primary-key lookup),
 * so a revoked session is refused on every gateway replica at once. Rows outlive their session
 * by nothing: each revocation purges the ones past their expiry.
 */
@Injectable()
export class ConsoleSessionRevocations {
  constructor(@Inject(SYSTEM_DATA_SOURCE) private readonly db: DataSource) {}

  /** Revokes the session `nonce` that expires at `expiresAt` (idempotent), and purges expired rows. */
  async revoke(nonce: string, expiresAt: Date): Promise<void> {
    await this.db.query(
      `WITH purged AS (DELETE FROM console_session_revocations WHERE expires_at < now())
       INSERT INTO console_session_revocations (nonce, expires_at) VALUES ($1, $2)
       ON CONFLICT (nonce) DO NOTHING`,
      [nonce, expiresAt],
    );
  }

  /** Whether the session `nonce` was revoked. */
  async isRevoked(nonce: string): Promise<boolean> {
    const rows: unknown[] = await this.db.query('SELECT 1 FROM console_session_revocations WHERE nonce = $1', [nonce]);
    return rows.length > 0;
  }
}
