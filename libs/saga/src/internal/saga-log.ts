import { classifySqlError } from '#polystore/data-router';
import { IdempotencyException } from '#polystore/idempotency';
import type { EntityManager } from 'typeorm';
import { SagaException } from '../saga.exception.js';
import { ACTIVE_STATES, type SagaState, type StepState, type SagaRecord, type StepRecord } from '../saga-state.js';

interface SagaRow {
  id: string;
  name: string;
  version: number;
  tenant: string | null;
  tenant_id: string | null;
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
  unknown_since: Date | null;
  retry_until: Date | null;
  next_attempt_at: Date | null;
  updated_at: Date;
}

/** What a new saga is made of. */
export interface NewSaga {
  readonly id: string;
  readonly name: string;
  readonly version: number;
  readonly tenant: string | null;
  readonly tenantId: string | null;
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
  /**
   * The participant did not answer: records the open unknown-outcome window (`since`, `until`,
   * null for a step retried until it succeeds) and the next attempt. `answeredAt` closes it (an answer came), moving the saga's deadline by
   * the time the window was open.
   */
  unknown?: { since: Date; until: Date | null; nextAttemptAt: Date } | { answeredAt: Date };
}

/** An operator's action on a parked saga. */
export type OperatorAction = 'retry' | 'skip';

/** A parked saga claimed for an operator action (same fencing as recovery). */
export interface ParkedClaim {
  readonly fence: number;
  /** The parked state it was claimed from. */
  readonly state: SagaState;
}

/** What an operator action did: claimed (and changed) the saga, or found its key already recorded. */
export type OperatorOutcome = ({ readonly replayed: false } & ParkedClaim) | { readonly replayed: true };

/** An operator action's request, as {@link SagaLog.operatorAction} records it. */
export interface OperatorRequest {
  readonly id: string;
  readonly action: OperatorAction;
  /** The caller's idempotency key, if any. */
  readonly key?: string;
  readonly owner: string;
  readonly leaseUntil: Date;
  /** When the key is recorded (its retention starts here). */
  readonly now: Date;
}

/**
 * The durable saga log in the system database. Every write that follows the creation is
 * fenced: one statement that updates the saga row only if its `fence` is still the caller's
 * (and the step or locks in the same statement), so a process that lost the saga to another
 * (lease expired and claimed) can never write again (`SAGA_LEASE_LOST`). Each write is one
 * round trip and one commit.
 */
export class SagaLog {
  /** `db`: the system database's manager, or a transaction's (see {@link operatorAction}). */
  constructor(private readonly db: EntityManager) {}

  /**
   * Inserts the saga (RUNNING, leased to its starter: no separate PENDING -> RUNNING write), its
   * steps and its semantic locks; `SAGA_CONFLICT` if a lock is taken.
   */
  async create(saga: NewSaga): Promise<void> {
    try {
      // One statement (atomic on its own): the saga, its steps and its locks.
      await this.db.query(
        `WITH saga AS (
           INSERT INTO sagas (id, name, version, tenant, actor, state, input, deadline_at, lease_owner, lease_until, fence, tenant_id)
           VALUES ($1, $2, $3, $4, $5, 'RUNNING', $6, $7, $8, $9, 1, $12)
           RETURNING id),
         steps AS (
           INSERT INTO saga_steps (saga_id, step, position, grp, state)
           SELECT saga.id, x.step, x.position, x.grp, 'PENDING'
           FROM saga, jsonb_to_recordset($10::jsonb) AS x(step text, position int, grp int)
           RETURNING 1)
         INSERT INTO saga_locks (resource, saga_id) SELECT r, saga.id FROM saga, unnest($11::text[]) AS r`,
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
          JSON.stringify(saga.steps.map((x) => ({ step: x.step, position: x.position, grp: x.group }))),
          saga.locks,
          saga.tenantId,
        ],
      );
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
    const rows: SagaWithSteps[] = await this.db.query(`SELECT ${WITH_STEPS} FROM sagas s WHERE s.id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async load(id: string): Promise<SagaRecord> {
    const saga = await this.find(id);
    if (!saga) throw SagaException.notFound(id);
    return saga;
  }

  /** Sagas, newest first, optionally by state and tenant. */
  async list(filter: { state?: SagaState; tenant?: string; limit: number }): Promise<SagaRecord[]> {
    const rows: SagaWithSteps[] = await this.db.query(
      `SELECT ${WITH_STEPS} FROM sagas s
       WHERE ($1::text IS NULL OR s.state = $1) AND ($2::text IS NULL OR s.tenant = $2)
       ORDER BY s.created_at DESC LIMIT $3`,
      [filter.state ?? null, filter.tenant ?? null, filter.limit],
    );
    return rows.map(toRecord);
  }

  /**
   * Sets the saga's state (and output or error). Reaching SUCCEEDED or COMPENSATED releases its
   * semantic locks and its lease in the same statement. `SAGA_LEASE_LOST` if the fence moved.
   */
  async setSaga(
    id: string,
    fence: number,
    patch: { state: SagaState; output?: unknown; error?: unknown },
  ): Promise<void> {
    const rows: Array<{ id: string }> = await this.db.query(
      `WITH saga AS (
         UPDATE sagas SET
           state = $3::varchar,
           output = COALESCE($4::jsonb, output),
           error = CASE WHEN $5::boolean THEN $6::jsonb ELSE error END,
           lease_owner = CASE WHEN $3::varchar IN ('SUCCEEDED', 'COMPENSATED') THEN NULL ELSE lease_owner END,
           lease_until = CASE WHEN $3::varchar IN ('SUCCEEDED', 'COMPENSATED') THEN NULL ELSE lease_until END,
           updated_at = now()
         WHERE id = $1 AND fence = $2
         RETURNING id, state),
       released AS (
         DELETE FROM saga_locks WHERE saga_id IN (SELECT id FROM saga WHERE state IN ('SUCCEEDED', 'COMPENSATED'))
         RETURNING 1)
       SELECT id FROM saga`,
      [
        id,
        fence,
        patch.state,
        patch.output === undefined ? null : JSON.stringify(patch.output ?? null),
        patch.error !== undefined,
        patch.error === undefined ? null : JSON.stringify(patch.error),
      ],
    );
    if (rows.length !== 1) throw SagaException.leaseLost(id);
  }

  /**
   * Updates one step, in one statement that also checks the fence (`SAGA_LEASE_LOST`) and, with
   * `whileState`, that the saga is still in that state: false when it is not (a late reply is
   * ignored). A first intent of a PENDING saga moves it to RUNNING in the same statement. With
   * `nextIntent`, the same statement also logs the intent of the step that follows (`RUNNING`,
   * its attempt number) when this update took place: one write per transition.
   */
  async setStep(
    id: string,
    fence: number,
    step: string,
    patch: StepPatch,
    whileState?: SagaState,
    nextIntent?: { readonly step: string; readonly attempts: number },
  ): Promise<boolean> {
    const opened = patch.unknown && 'since' in patch.unknown ? patch.unknown : undefined;
    const answeredAt = patch.unknown && 'answeredAt' in patch.unknown ? patch.unknown.answeredAt : undefined;
    const rows: Array<{ fenced: boolean; updated: number; intents: number }> = await this.db.query(
      `WITH saga AS (
         UPDATE sagas SET
           updated_at = now(),
           -- Time spent waiting for a participant that did not answer does not count against the
           -- deadline: when the window closes with an answer, the deadline moves by its length.
           deadline_at = deadline_at + CASE WHEN $12::boolean AND NOT $13::boolean AND state = 'RUNNING' THEN COALESCE(
             (SELECT $14::timestamptz - unknown_since FROM saga_steps WHERE saga_id = $1 AND step = $3),
             interval '0') ELSE interval '0' END
         WHERE id = $1 AND fence = $2
         RETURNING state),
       step AS (
         UPDATE saga_steps SET
           state = COALESCE($4::varchar, state),
           attempts = COALESCE($5::int, attempts),
           compensation_attempts = COALESCE($6::int, compensation_attempts),
           output = CASE WHEN $7::boolean THEN $8::jsonb ELSE output END,
           error = CASE WHEN $9::boolean THEN $10::jsonb ELSE error END,
           unknown_since = CASE WHEN NOT $12::boolean THEN unknown_since
             WHEN $13::boolean THEN $14::timestamptz ELSE NULL END,
           retry_until = CASE WHEN NOT $12::boolean THEN retry_until
             WHEN $13::boolean THEN $15::timestamptz ELSE NULL END,
           next_attempt_at = CASE WHEN NOT $12::boolean THEN next_attempt_at
             WHEN $13::boolean THEN $16::timestamptz ELSE NULL END,
           updated_at = now()
         WHERE saga_id = $1 AND step = $3 AND EXISTS (SELECT 1 FROM saga WHERE $11::varchar IS NULL OR saga.state = $11::varchar)
         RETURNING 1),
       next_intent AS (
         UPDATE saga_steps SET state = 'RUNNING', attempts = $18::int, updated_at = now()
         WHERE $17::varchar IS NOT NULL AND saga_id = $1 AND step = $17::varchar AND EXISTS (SELECT 1 FROM step)
         RETURNING 1)
       SELECT EXISTS (SELECT 1 FROM saga) AS fenced, (SELECT count(*) FROM step)::int AS updated,
         (SELECT count(*) FROM next_intent)::int AS intents`,
      [
        id,
        fence,
        step,
        patch.state ?? null,
        patch.attempts ?? null,
        patch.compensationAttempts ?? null,
        patch.output !== undefined,
        patch.output === undefined ? null : JSON.stringify(patch.output ?? null),
        patch.error !== undefined,
        patch.error === undefined ? null : JSON.stringify(patch.error),
        whileState ?? null,
        patch.unknown !== undefined,
        opened !== undefined,
        opened?.since ?? answeredAt ?? null,
        opened?.until ?? null,
        opened?.nextAttemptAt ?? null,
        nextIntent?.step ?? null,
        nextIntent?.attempts ?? null,
      ],
    );
    if (!rows[0]?.fenced) throw SagaException.leaseLost(id);
    return rows[0].updated === 1;
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

  /**
   * An operator's action on a parked saga, in one transaction: records the idempotency key (if
   * any), claims the saga (the fence is bumped, as by recovery) and applies `change` through a
   * log bound to the same transaction; so a key is stored if and only if its state change is.
   * A key already recorded for this saga and action: `replayed`, nothing changes; for another
   * saga or action: `IDEMPOTENCY_MISMATCH`. A concurrent duplicate waits on the key's primary key
   * until the first commits (then it replays) or rolls back (then it acts). `SAGA_NOT_FOUND`,
   * `SAGA_NOT_PARKED` and any failure of `change` roll the key back with the rest.
   */
  async operatorAction(
    request: OperatorRequest,
    change: (log: SagaLog, claim: ParkedClaim) => Promise<void>,
  ): Promise<OperatorOutcome> {
    if (request.key !== undefined && !OPERATOR_KEY.test(request.key)) throw IdempotencyException.invalidKey();
    return this.db.transaction(async (manager) => {
      const log = new SagaLog(manager);
      if (request.key !== undefined && (await log.recordAction(request.key, request))) return { replayed: true };
      const claim = await log.claimParked(request.id, request.owner, request.leaseUntil);
      if (!claim) throw SagaException.notParked(request.id, (await log.load(request.id)).state);
      await change(log, claim);
      return { replayed: false, ...claim };
    });
  }

  /**
   * Inserts the operator's key; true when it was already recorded for the same saga and action
   * (ON CONFLICT waits for a concurrent insert of the key to commit or roll back).
   */
  private async recordAction(key: string, request: OperatorRequest): Promise<boolean> {
    const inserted: unknown[] = await this.db.query(
      `INSERT INTO saga_actions (key, saga_id, action, created_at)
       SELECT $1, s.id, $3, $4 FROM sagas s WHERE s.id = $2
       ON CONFLICT (key) DO NOTHING RETURNING key`,
      [key, request.id, request.action, request.now],
    );
    if (inserted.length === 1) return false;
    const earlier: Array<{ saga_id: string; action: string }> = await this.db.query(
      'SELECT saga_id, action FROM saga_actions WHERE key = $1',
      [key],
    );
    if (!earlier[0]) throw SagaException.notFound(request.id); // nothing inserted, nothing recorded: no such saga
    const sameSaga = earlier[0].saga_id === request.id.toLowerCase(); // uuid columns read back in lower case
    if (!sameSaga || earlier[0].action !== request.action) throw IdempotencyException.mismatch();
    return true;
  }

  /** Claims one parked saga for an operator action (same fencing as recovery). */
  private async claimParked(id: string, owner: string, leaseUntil: Date): Promise<ParkedClaim | null> {
    const [rows]: [Array<{ fence: string; state: SagaState }>, number] = await this.db.query(
      `UPDATE sagas SET lease_owner = $2, lease_until = $3, fence = fence + 1
       WHERE id = $1 AND state IN ('FAILED', 'COMPENSATION_FAILED') RETURNING fence, state`,
      [id, owner, leaseUntil],
    );
    return rows[0] ? { fence: Number(rows[0].fence), state: rows[0].state } : null;
  }

  /** Deletes the operators' keys recorded before `cutoff`; how many. */
  async purgeOperatorKeys(cutoff: Date): Promise<number> {
    const [, count]: [unknown, number] = await this.db.query('DELETE FROM saga_actions WHERE created_at < $1', [
      cutoff,
    ]);
    return count;
  }
}

/** An operator's idempotency key: the format of every key in Polystore (see libs/idempotency). */
const OPERATOR_KEY = /^[A-Za-z0-9._:-]{1,200}$/;

/** The columns of a saga with its steps as one JSON array (one query, one round trip). */
const WITH_STEPS = `s.*, COALESCE(
  (SELECT json_agg(st ORDER BY st.position) FROM saga_steps st WHERE st.saga_id = s.id), '[]'::json) AS steps`;

interface SagaWithSteps extends SagaRow {
  /** From json_agg: timestamps arrive as strings. */
  steps: Array<
    Omit<StepRow, 'updated_at' | 'unknown_since' | 'retry_until' | 'next_attempt_at'> & {
      updated_at: string;
      unknown_since: string | null;
      retry_until: string | null;
      next_attempt_at: string | null;
    }
  >;
}

function toRecord(row: SagaWithSteps): SagaRecord {
  return {
    id: row.id,
    name: row.name,
    version: row.version,
    tenant: row.tenant,
    tenantId: row.tenant_id,
    actor: row.actor,
    state: row.state,
    input: row.input,
    output: row.output,
    error: row.error,
    deadlineAt: row.deadline_at,
    fence: Number(row.fence),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    steps: row.steps.map((s): StepRecord => ({
      step: s.step,
      position: s.position,
      group: s.grp,
      state: s.state,
      attempts: s.attempts,
      compensationAttempts: s.compensation_attempts,
      output: s.output,
      error: s.error,
      unknownSince: s.unknown_since === null ? null : new Date(s.unknown_since),
      retryUntil: s.retry_until === null ? null : new Date(s.retry_until),
      nextAttemptAt: s.next_attempt_at === null ? null : new Date(s.next_attempt_at),
      updatedAt: new Date(s.updated_at),
    })),
  };
}
