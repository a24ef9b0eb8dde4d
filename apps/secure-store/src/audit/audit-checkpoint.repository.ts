import { Inject, Injectable } from '@nestjs/common';
import { SYSTEM_DATA_SOURCE } from '#polystore/catalog';
import { returnedRows } from '#polystore/data-router';
import { DataSource } from 'typeorm';
import type { AuditCheckpoint } from './audit-checkpoint.util.js';

interface CheckpointRow {
  tenant_id: string;
  seq: string;
  head_hash: Buffer;
  at: Date;
  key_version: number;
  signature: Buffer;
}

/**
 * The latest audit checkpoint of each tenant, in the system database (`audit_checkpoints`, one
 * row per tenant, deleted with the tenant's row). Every call is one statement.
 */
@Injectable()
export class AuditCheckpointRepository {
  constructor(@Inject(SYSTEM_DATA_SOURCE) private readonly db: DataSource) {}

  /** The tenant's latest checkpoint, as stored (not checked), or null. */
  async latest(tenantId: string): Promise<AuditCheckpoint | null> {
    const rows: CheckpointRow[] = await this.db.query(
      `SELECT tenant_id, seq::text AS seq, head_hash, at, key_version, signature
         FROM audit_checkpoints WHERE tenant_id = $1`,
      [tenantId],
    );
    const row = rows[0];
    return row
      ? {
          tenantId: row.tenant_id,
          seq: Number(row.seq),
          hash: row.head_hash,
          at: row.at,
          keyVersion: row.key_version,
          signature: row.signature,
        }
      : null;
  }

  /**
   * Replaces the tenant's checkpoint `previous` (null: it has none) with `next`, only if the row
   * is still `previous` (compare-and-set on its `seq` and signature): a replica that checkpointed
   * meanwhile wins, and nothing ever replaces a checkpoint this process did not check. False
   * when nothing was written.
   */
  async advance(previous: AuditCheckpoint | null, next: AuditCheckpoint): Promise<boolean> {
    const values = [next.tenantId, next.seq, next.hash, next.at, next.keyVersion, next.signature];
    const rows: unknown[] = previous
      ? returnedRows(
          await this.db.query(
            `UPDATE audit_checkpoints
                SET seq = $2, head_hash = $3, at = $4, key_version = $5, signature = $6
              WHERE tenant_id = $1 AND seq = $7 AND signature = $8
             RETURNING 1`,
            [...values, previous.seq, previous.signature],
          ),
        )
      : await this.db.query(
          `INSERT INTO audit_checkpoints (tenant_id, seq, head_hash, at, key_version, signature)
           SELECT $1::uuid, $2::bigint, $3::bytea, $4::timestamptz, $5::smallint, $6::bytea
            WHERE EXISTS (SELECT FROM tenants WHERE id = $1::uuid)
           ON CONFLICT (tenant_id) DO NOTHING
           RETURNING 1`,
          values,
        );
    return rows.length === 1;
  }
}
