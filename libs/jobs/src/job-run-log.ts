import { randomUUID } from 'node:crypto';
import { returnedRows } from '#polystore/data-router';
import type { DataSource } from 'typeorm';

export type RunState = 'RUNNING' | 'FINISHED' | 'CANCELLED';
export type TenantStatus = 'ok' | 'failed' | 'skipped';

/** What happened to one tenant in a run. */
export interface TenantOutcome {
  readonly tenant: string;
  readonly status: TenantStatus;
  readonly durationMs: number;
  readonly error?: { readonly code: string; readonly message: string };
  readonly result?: unknown;
  /** Finished by an earlier attempt of this run (read from the checkpoint, not run again). */
  readonly fromCheckpoint?: boolean;
}

export interface RunRecord {
  readonly id: string;
  readonly job: string;
  readonly slot: Date | null;
  readonly params: Record<string, unknown>;
  readonly state: RunState;
  readonly owner: string | null;
  readonly leaseUntil: Date | null;
  readonly total: number;
  readonly ok: number;
  readonly failed: number;
  readonly skipped: number;
  readonly createdAt: Date;
  readonly finishedAt: Date | null;
}

interface RunRow {
  id: string;
  job: string;
  slot: Date | null;
  params: Record<string, unknown>;
  state: RunState;
  owner: string | null;
  lease_until: Date | null;
  total: number;
  ok: number;
  failed: number;
  skipped: number;
  created_at: Date;
  finished_at: Date | null;
}

const toRecord = (row: RunRow): RunRecord => ({
  id: row.id,
  job: row.job,
  slot: row.slot,
  params: row.params,
  state: row.state,
  owner: row.owner,
  leaseUntil: row.lease_until,
  total: row.total,
  ok: row.ok,
  failed: row.failed,
  skipped: row.skipped,
  createdAt: row.created_at,
  finishedAt: row.finished_at,
});

/**
 * The log of job runs in the system database: who drives a run (a lease that expires when its
 * process dies), and which tenants are finished (the checkpoint). Every write is one statement.
 *
 * A run is `RUNNING` until its driver finishes it; a run whose lease has expired is claimed
 * by the next process that asks, and continues where the checkpoint says. Tenants that failed
 * are not finished: a resumed run tries them again.
 */
export class JobRunLog {
  constructor(private readonly db: DataSource) {}

  /**
   * Starts a run held by `owner`. With a `slot`, at most one run per (job, slot) ever exists:
   * `null` means another process already started this slot.
   */
  async start(
    job: string,
    options: { owner: string; leaseMs: number; slot?: Date; params?: Record<string, unknown>; total?: number },
  ): Promise<RunRecord | null> {
    const rows = await this.db.query<RunRow[]>(
      `INSERT INTO job_runs (id, job, slot, params, state, owner, lease_until, total)
       VALUES ($1, $2, $3, $4::jsonb, 'RUNNING', $5, now() + $6 * interval '1 millisecond', $7)
       ON CONFLICT (job, slot) WHERE slot IS NOT NULL DO NOTHING
       RETURNING *`,
      [
        randomUUID(),
        job,
        options.slot ?? null,
        JSON.stringify(options.params ?? {}),
        options.owner,
        options.leaseMs,
        options.total ?? 0,
      ],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /**
   * Takes over the oldest `RUNNING` run of `job` whose lease has expired (its driver died or
   * let go), or `null`. `where` narrows it further (e.g. manual runs of the same parameters).
   */
  async claimAbandoned(
    job: string,
    owner: string,
    leaseMs: number,
    where: { params?: Record<string, unknown>; runId?: string } = {},
  ): Promise<RunRecord | null> {
    const rows = returnedRows<RunRow>(
      await this.db.query(
        `UPDATE job_runs SET owner = $2, lease_until = now() + $3 * interval '1 millisecond'
       WHERE id = (
         SELECT id FROM job_runs
         WHERE job = $1 AND state = 'RUNNING' AND lease_until < now()
           AND ($4::jsonb IS NULL OR params = $4::jsonb) AND ($5::uuid IS NULL OR id = $5::uuid)
         ORDER BY created_at LIMIT 1
         FOR UPDATE SKIP LOCKED)
       RETURNING *`,
        [job, owner, leaseMs, where.params ? JSON.stringify(where.params) : null, where.runId ?? null],
      ),
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** Extends the lease; `false` when another process took the run over (stop working on it). */
  async renew(runId: string, owner: string, leaseMs: number): Promise<boolean> {
    const rows = returnedRows(
      await this.db.query(
        `UPDATE job_runs SET lease_until = now() + $3 * interval '1 millisecond'
         WHERE id = $1 AND owner = $2 AND state = 'RUNNING' RETURNING id`,
        [runId, owner, leaseMs],
      ),
    );
    return rows.length > 0;
  }

  /** Lets go of a run without finishing it (shutdown): any process may resume it at once. */
  async release(runId: string, owner: string): Promise<void> {
    await this.db.query(`UPDATE job_runs SET lease_until = now() WHERE id = $1 AND owner = $2 AND state = 'RUNNING'`, [
      runId,
      owner,
    ]);
  }

  /** Records one tenant's outcome (replacing an earlier failure of the same run). */
  async record(runId: string, outcome: TenantOutcome): Promise<void> {
    await this.db.query(
      `INSERT INTO job_run_tenants (run_id, tenant, status, duration_ms, error, result)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb)
       ON CONFLICT (run_id, tenant) DO UPDATE
         SET status = EXCLUDED.status, duration_ms = EXCLUDED.duration_ms, error = EXCLUDED.error,
             result = EXCLUDED.result, finished_at = now()`,
      [
        runId,
        outcome.tenant,
        outcome.status,
        Math.round(outcome.durationMs),
        outcome.error ? JSON.stringify(outcome.error) : null,
        outcome.result === undefined ? null : JSON.stringify(outcome.result),
      ],
    );
  }

  /** Outcomes recorded for the run so far. */
  async outcomes(runId: string): Promise<TenantOutcome[]> {
    const rows = await this.db.query<
      Array<{
        tenant: string;
        status: TenantStatus;
        duration_ms: number;
        error: TenantOutcome['error'] | null;
        result: unknown;
      }>
    >(`SELECT tenant, status, duration_ms, error, result FROM job_run_tenants WHERE run_id = $1 ORDER BY tenant`, [
      runId,
    ]);
    return rows.map((r) => ({
      tenant: r.tenant,
      status: r.status,
      durationMs: r.duration_ms,
      ...(r.error ? { error: r.error } : {}),
      ...(r.result !== null ? { result: r.result } : {}),
    }));
  }

  /** Ends the run (only its current owner can) with its final counts. */
  async finish(
    runId: string,
    owner: string,
    state: Exclude<RunState, 'RUNNING'>,
    counts: { total: number; ok: number; failed: number; skipped: number },
  ): Promise<boolean> {
    const rows = returnedRows(
      await this.db.query(
        `UPDATE job_runs SET state = $3, total = $4, ok = $5, failed = $6, skipped = $7,
         finished_at = now(), lease_until = NULL
       WHERE id = $1 AND owner = $2 AND state = 'RUNNING' RETURNING id`,
        [runId, owner, state, counts.total, counts.ok, counts.failed, counts.skipped],
      ),
    );
    return rows.length > 0;
  }

  async get(runId: string): Promise<RunRecord | null> {
    const rows = await this.db.query<RunRow[]>('SELECT * FROM job_runs WHERE id = $1', [runId]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** The latest runs, newest first (of one job, or of all). */
  async list(options: { job?: string; limit?: number } = {}): Promise<RunRecord[]> {
    const rows = await this.db.query<RunRow[]>(
      `SELECT * FROM job_runs WHERE ($1::varchar IS NULL OR job = $1) ORDER BY created_at DESC LIMIT $2`,
      [options.job ?? null, options.limit ?? 20],
    );
    return rows.map(toRecord);
  }
}
