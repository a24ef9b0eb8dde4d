import { classifySqlError } from '#polystore/data-router';
import type { DataSource, EntityManager } from 'typeorm';
import { SagaException } from '../saga.exception.js';
import { ACTIVE_STATES, SagaState, type StepState, type SagaRecord, type StepRecord } from '../saga-state.js';

interface SagaRow {
  id: string;
  name: string;
  version: number;
  tenant: string | null;
  actor: string | null;
  state: SagaState;
  input: unknown;
  output: unknown;
  error: unknown;
  deadline_at: Date;
  fence: string;
  created_at: Date;
  updated_at: Date;
}

interface StepRow {
  step: string;
  position: number;
  grp: number;
  state: StepState;
  attempts: number;
  compensation_attempts: number;
  output: unknown;
  error: unknown;
  updated_at: Date;
}

/** What a new saga is made of. */
export interface NewSaga {
  readonly id: string;
  readonly name: string;
  readonly version: number;
  readonly tenant: string | null;
  readonly actor: string | null;
  readonly input: unknown;
  readonly deadlineAt: Date;
  readonly steps: ReadonlyArray<{ step: string; position: number; group: number }>;
  readonly locks: readonly string[];
  readonly owner: string;
  readonly leaseUntil: Date;
}

/** A patch of one step. */
export interface StepPatch {
  state?: StepState;
  attempts?: number;
  compensationAttempts?: number;
  output?: unknown;
  error?: unknown;
}

/**
 * The durable saga log in the system database. Every write that follows the creation is
 * fenced: it runs in a transaction that first bumps the saga row only if its `fence` is still
 * the caller's, so a process that lost the saga to another (lease expired and claimed) can
 * never write again (`SAGA_LEASE_LOST`).
 */
export class SagaLog {
  constructor(private readonly db: DataSource) {}

  /** Inserts the saga, its steps and its semantic locks; `SAGA_CONFLICT` if a lock is taken. */
  async create(saga: NewSaga): Promise<void> {
    try {
      await this.db.transaction(async (m) => {
        await m.query(
          `INSERT INTO sagas (id, name, version, tenant, actor, state, input, deadline_at, lease_owner, lease_until, fence)
           VALUES ($1, $2, $3, $4, $5, 'PENDING', $6, $7, $8, $9, 1)`,
          [
            saga.id,
            saga.name,
            saga.version,
            saga.tenant,
            saga.actor,
            JSON.stringify(saga.input),
            saga.deadlineAt,
            saga.owner,
            saga.leaseUntil,
          ],
        );
        for (const s of saga.steps) {
          await m.query(
            `INSERT INTO saga_steps (saga_id, step, position, grp, state) VALUES ($1, $2, $3, $4, 'PENDING')`,
            [saga.id, s.step, s.position, s.group],
          );
        }
        for (const resource of saga.locks) {
          await m.query('INSERT INTO saga_locks (resource, saga_id) VALUES ($1, $2)', [resource, saga.id]);
        }
      });
    } catch (error) {
      if (classifySqlError(error) !== 'unique_violation') throw error;
      const existing: unknown[] = await this.db.query('SELECT 1 FROM sagas WHERE id = $1', [saga.id]);
      if (existing.length > 0) throw SagaException.alreadyStarted(saga.id);
      const holders: Array<{ resource: string; saga_id: string }> = await this.db.query(
        'SELECT resource, saga_id FROM saga_locks WHERE resource = ANY($1)',
        [saga.locks],
      );
      throw SagaException.conflict(holders[0]?.resource ?? saga.locks[0]!, holders[0]?.saga_id ?? 'unknown');
    }
  }

  async find(id: string): Promise<SagaRecord | null> {
    const rows: SagaRow[] = await this.db.query('SELECT * FROM sagas WHERE id = $1', [id]);
    const row = rows[0];
    if (!row) return null;
    const steps: StepRow[] = await this.db.query('SELECT * FROM saga_steps WHERE saga_id = $1 ORDER BY position', [id]);
    return toRecord(row, steps);
  }

  async load(id: string): Promise<SagaRecord> {
    const saga = await this.find(id);
    if (!saga) throw SagaException.notFound(id);
    return saga;
  }

  /** Sagas, newest first, optionally by state and tenant. */
  async list(filter: { state?: SagaState; tenant?: string; limit: number }): Promise<SagaRecord[]> {
    const rows: SagaRow[] = await this.db.query(
      `SELECT * FROM sagas WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR tenant = $2)
       ORDER BY created_at DESC LIMIT $3`,
      [filter.state ?? null, filter.tenant ?? null, filter.limit],
    );
    return Promise.all(
      rows.map(async (row) =>
        toRecord(row, await this.db.query('SELECT * FROM saga_steps WHERE saga_id = $1 ORDER BY position', [row.id])),
      ),
    );
  }

  /** Runs `work` in a transaction that holds the saga's fence; throws `SAGA_LEASE_LOST` otherwise. */
  async fenced<T>(id: string, fence: number, work: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(async (m) => {
      const touched: [unknown, number] = await m.query(
        'UPDATE sagas SET updated_at = now() WHERE id = $1 AND fence = $2',
        [id, fence],
      );
      if (touched[1] !== 1) throw SagaException.leaseLost(id);
      return work(m);
    });
  }

  async setSaga(
    id: string,
    fence: number,
    patch: { state: SagaState; output?: unknown; error?: unknown },
  ): Promise<void> {
    await this.fenced(id, fence, async (m) => {
      await m.query(
        `UPDATE sagas SET state = $2,
           output = COALESCE($3::jsonb, output),
           error = CASE WHEN $4::jsonb IS NULL THEN error ELSE $4::jsonb END
         WHERE id = $1`,
        [
          id,
          patch.state,
          patch.output === undefined ? null : JSON.stringify(patch.output ?? null),
          patch.error === undefined ? null : JSON.stringify(patch.error),
        ],
      );
      if (patch.state === SagaState.SUCCEEDED || patch.state === SagaState.COMPENSATED) {
        await m.query('DELETE FROM saga_locks WHERE saga_id = $1', [id]);
        await m.query('UPDATE sagas SET lease_owner = NULL, lease_until = NULL WHERE id = $1', [id]);
      }
    });
  }

  /** Updates one step; with `whileState`, only if the saga is still in that state (late replies are ignored). */
  async setStep(id: string, fence: number, step: string, patch: StepPatch, whileState?: SagaState): Promise<boolean> {
    return this.fenced(id, fence, async (m) => {
      if (whileState) {
        const rows: Array<{ state: string }> = await m.query('SELECT state FROM sagas WHERE id = $1', [id]);
        if (rows[0]?.state !== whileState) return false;
      }
      await m.query(
        `UPDATE saga_steps SET
           state = COALESCE($3, state),
           attempts = COALESCE($4, attempts),
           compensation_attempts = COALESCE($5, compensation_attempts),
           output = CASE WHEN $6::boolean THEN $7::jsonb ELSE output END,
           error = CASE WHEN $8::boolean THEN $9::jsonb ELSE error END,
           updated_at = now()
         WHERE saga_id = $1 AND step = $2`,
        [
          id,
          step,
          patch.state ?? null,
          patch.attempts ?? null,
          patch.compensationAttempts ?? null,
          patch.output !== undefined,
          patch.output === undefined ? null : JSON.stringify(patch.output ?? null),
          patch.error !== undefined,
          patch.error === undefined ? null : JSON.stringify(patch.error),
        ],
      );
      return true;
    });
  }

  /**
   * Sets `flag` to true in the saga's output unless it already is; true for the one caller that
   * set it (e.g. "the device token was shown").
   */
  async claimOutputFlag(id: string, flag: string): Promise<boolean> {
    const result: [unknown, number] = await this.db.query(
      `UPDATE sagas SET output = jsonb_set(COALESCE(output, '{}'::jsonb), ARRAY[$2::text], 'true'::jsonb)
       WHERE id = $1 AND NOT COALESCE((output ->> $2)::boolean, false)`,
      [id, flag],
    );
    return result[1] === 1;
  }

  /** Extends the lease of a saga this process drives; false when it was lost. */
  async renewLease(id: string, fence: number, until: Date): Promise<boolean> {
    const result: [unknown, number] = await this.db.query(
      'UPDATE sagas SET lease_until = $3 WHERE id = $1 AND fence = $2',
      [id, fence, until],
    );
    return result[1] === 1;
  }

  /** Gives up the lease (the saga stays where it is; any process may resume it at once). */
  async releaseLease(id: string, fence: number): Promise<void> {
    await this.db.query('UPDATE sagas SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND fence = $2', [
      id,
      fence,
    ]);
  }

  /**
   * Claims up to `limit` active sagas whose lease expired (or that have none): one statement,
   * `FOR UPDATE SKIP LOCKED` so concurrent claimers never take the same saga, and the fence is
   * bumped so the previous owner, if still alive, can no longer write.
   */
  async claimStale(
    owner: string,
    leaseUntil: Date,
    limit: number,
    now: Date,
  ): Promise<Array<{ id: string; fence: number }>> {
    // TypeORM answers an UPDATE ... RETURNING with [rows, rowCount].
    const [rows]: [Array<{ id: string; fence: string }>, number] = await this.db.query(
      `UPDATE sagas SET lease_owner = $1, lease_until = $2, fence = fence + 1
       WHERE id IN (
         SELECT id FROM sagas
         WHERE state = ANY($3) AND (lease_until IS NULL OR lease_until < $4)
         ORDER BY updated_at LIMIT $5
         FOR UPDATE SKIP LOCKED)
       RETURNING id, fence`,
      [owner, leaseUntil, ACTIVE_STATES, now, limit],
    );
    return rows.map((r) => ({ id: r.id, fence: Number(r.fence) }));
  }

  /** Claims one parked saga for an operator action (same fencing as recovery). */
  async claimParked(id: string, owner: string, leaseUntil: Date): Promise<{ fence: number; state: SagaState } | null> {
    const [rows]: [Array<{ fence: string; state: SagaState }>, number] = await this.db.query(
      `UPDATE sagas SET lease_owner = $2, lease_until = $3, fence = fence + 1
       WHERE id = $1 AND state IN ('FAILED', 'COMPENSATION_FAILED') RETURNING fence, state`,
      [id, owner, leaseUntil],
    );
    return rows[0] ? { fence: Number(rows[0].fence), state: rows[0].state } : null;
  }
}

function toRecord(row: SagaRow, steps: StepRow[]): SagaRecord {
  return {
    id: row.id,
    name: row.name,
    version: row.version,
    tenant: row.tenant,
    actor: row.actor,
    state: row.state,
    input: row.input,
    output: row.output,
    error: row.error,
    deadlineAt: row.deadline_at,
    fence: Number(row.fence),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    steps: steps.map((s): StepRecord => ({
      step: s.step,
      position: s.position,
      group: s.grp,
      state: s.state,
      attempts: s.attempts,
      compensationAttempts: s.compensation_attempts,
      output: s.output,
      error: s.error,
      updatedAt: s.updated_at,
    })),
  };
}
