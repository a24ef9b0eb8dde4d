import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SYSTEM_DATA_SOURCE } from './catalog.tokens.js';

/** What an operator did (console actions: `login`, `login-failed`, `logout`, `key.revoke`, `saga.retry`, `saga.skip`). */
export interface AdminAuditEntry {
  /** Who: `console:<first 8 characters of the session nonce>`; never a token. */
  readonly actor: string;
  readonly action: string;
  /** What it acted on: a tenant slug, a key id, a saga id; null when nothing. */
  readonly target: string | null;
  /** `ok`, or the code of the error the action ended with. */
  readonly outcome: string;
  /** More about it (ids, the idempotency key); never a secret. */
  readonly detail?: Readonly<Record<string, unknown>> | null;
}

/** An audit row as written. */
export interface AdminAuditRecord extends AdminAuditEntry {
  readonly id: string;
  readonly at: Date;
}

interface AuditRow {
  id: string;
  at: Date;
  actor: string;
  action: string;
  target: string | null;
  outcome: string;
  detail: Record<string, unknown> | null;
}

/** The admin audit trail in the catalog (`admin_audit`): append and read the newest rows. */
@Injectable()
export class AdminAuditService {
  constructor(@Inject(SYSTEM_DATA_SOURCE) private readonly db: DataSource) {}

  /** Appends one row (one statement, committed on its own). */
  async record(entry: AdminAuditEntry): Promise<void> {
    await this.db.query(
      'INSERT INTO admin_audit (actor, action, target, outcome, detail) VALUES ($1, $2, $3, $4, $5)',
      [entry.actor, entry.action, entry.target, entry.outcome, entry.detail ? JSON.stringify(entry.detail) : null],
    );
  }

  /** The newest `limit` rows, newest first. */
  async latest(limit: number): Promise<AdminAuditRecord[]> {
    const rows: AuditRow[] = await this.db.query(
      'SELECT id::text AS id, at, actor, action, target, outcome, detail FROM admin_audit ORDER BY id DESC LIMIT $1',
      [limit],
    );
    return rows.map((row) => ({ ...row, detail: row.detail }));
  }
}
