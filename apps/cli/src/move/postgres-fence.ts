import { setTimeout as delay } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { classifySqlError, quoteDatabaseName } from '#polystore/data-router';
import type { QueryRunner } from 'typeorm';
import { selectRows } from './query.util.js';
import { MoveException } from './move.exception.js';
import { quoteIdent } from './postgres-schema.util.js';

/** Each attempt waits at most this long for the writers in flight before letting them through again. */
const MAX_ATTEMPT_WAIT_MS = 500;

/**
 * How the old copy of a tenant is closed at the switch: no new work may reach it, and the
 * sessions that still could (they hold or wait for a lock on its tables) are terminated.
 */
export interface SourceCloser {
  /** Stops new work from reaching the old copy. */
  close(admin: QueryRunner): Promise<void>;
  /** Undoes {@link close} (a move that aborts before its switch). */
  reopen(admin: QueryRunner): Promise<void>;
  /** Lists `(pid, signalled)` of the sessions to terminate, terminating them; `$1` is the fence's own pid. */
  readonly terminateSql: string;
  readonly terminateParams: readonly unknown[];
}

/**
 * A database of its own: `ALTER DATABASE ... ALLOW_CONNECTIONS false` (nobody, superusers
 * included, connects any more, a stale replica included), then every other session of the
 * database is terminated.
 */
export function databaseCloser(database: string): SourceCloser {
  const quoted = quoteDatabaseName('postgres', database);
  return {
    close: async (admin) => void (await admin.query(`ALTER DATABASE ${quoted} ALLOW_CONNECTIONS false`)),
    reopen: async (admin) => void (await admin.query(`ALTER DATABASE ${quoted} ALLOW_CONNECTIONS true`)),
    terminateSql: `SELECT pid, pg_terminate_backend(pid) AS signalled FROM pg_stat_activity WHERE datname = $2 AND pid <> $1`,
    terminateParams: [database],
  };
}

/**
 * A schema in a shared database (other tenants keep being served there): the schema is renamed
 * away (`<schema>_m<stamp>`), so a store still bound to the old placement finds no table
 * (`42P01`, a retryable 503) instead of writing into the old copy; then the sessions holding or
 * waiting for a lock on one of its tables (by the schema's oid, which the rename keeps) are
 * terminated: a writer that resolved the table before the rename and waits on the fence fails
 * instead of writing once the fence is released. No other tenant's session is touched.
 */
export function schemaCloser(schema: string, schemaOid: number, movedTo: string): SourceCloser {
  const [from, to] = [quoteIdent(schema), quoteIdent(movedTo)];
  return {
    close: async (admin) => void (await admin.query(`ALTER SCHEMA ${from} RENAME TO ${to}`)),
    reopen: async (admin) => void (await admin.query(`ALTER SCHEMA ${to} RENAME TO ${from}`)),
    terminateSql: `SELECT pid, pg_terminate_backend(pid) AS signalled FROM (
        SELECT DISTINCT l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
        WHERE c.relnamespace = $2::oid AND l.pid <> $1) AS holders`,
    terminateParams: [schemaOid],
  };
}

/**
 * The write fence on a PostgreSQL source: one REPEATABLE READ transaction holding `EXCLUSIVE`
 * locks on the tenant's tables (readers go on, every writer waits), whose snapshot is what gets
 * copied. Closing it for good is four steps in this order: close the old copy (from a second,
 * administrative connection, so it takes effect at once; see {@link SourceCloser}), switch the
 * placement (the caller), terminate the old copy's other sessions (the writers waiting on the
 * lock fail and their clients retry against the new placement), and only then release the locks.
 */
export class PostgresWriteFence {
  private lockedAt?: number;
  private pid?: number;
  private refusing = false;
  private releasedAfterMs?: number;

  constructor(
    /** A dedicated connection to the source (bound to the tenant's schema for a schema placement). */
    private readonly runner: QueryRunner,
    /** An administrative connection to the same server. */
    private readonly admin: QueryRunner,
    private readonly closer: SourceCloser,
  ) {}

  /**
   * Takes the locks. Each attempt waits a short, growing time (25 ms, 50 ms, ... up to 500 ms,
   * below PostgreSQL's default `deadlock_timeout` of 1 s): a writer that holds one table and
   * wants another is never chosen as a deadlock victim, the fence gives way and tries again.
   * Returns the attempts needed; `MOVE_LOCK_TIMEOUT` after `budgetMs`.
   */
  async acquire(tables: readonly string[], budgetMs: number): Promise<number> {
    if (tables.length === 0) throw MoveException.notSupported('a database without tables');
    const list = tables.map(quoteIdent).join(', ');
    const started = performance.now();
    this.pid = await this.backendPid();
    for (let attempt = 1; ; attempt++) {
      await this.runner.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      try {
        // Utility statements only until the lock: the snapshot is taken by the first query after it.
        await this.runner.query(`SET LOCAL lock_timeout = '${Math.min(25 * attempt, MAX_ATTEMPT_WAIT_MS)}ms'`);
        // Writers queue behind the lock request as soon as it is made: the pause starts here.
        const requestedAt = performance.now();
        await this.runner.query(`LOCK TABLE ${list} IN EXCLUSIVE MODE`);
        this.lockedAt = requestedAt;
        await this.runner.query('SET LOCAL lock_timeout = 0');
        return attempt;
      } catch (error) {
        await this.runner.query('ROLLBACK').catch(() => undefined);
        const failure = classifySqlError(error);
        if (failure !== 'lock_timeout' && failure !== 'deadlock') throw error;
        if (performance.now() - started >= budgetMs) throw MoveException.lockTimeout(Math.round(budgetMs));
      }
    }
  }

  /** Milliseconds since the (successful) lock request: how long writers have been held so far. */
  get heldMs(): number {
    return this.lockedAt === undefined ? 0 : Math.round(performance.now() - this.lockedAt);
  }

  /** Closes the old copy: from now on no new work reaches it (see {@link SourceCloser}). */
  async refuseConnections(): Promise<void> {
    await this.closer.close(this.admin);
    this.refusing = true;
  }

  /** Undoes {@link refuseConnections} (a move that aborts before its switch). */
  async allowConnections(): Promise<void> {
    if (!this.refusing) return;
    await this.closer.reopen(this.admin);
    this.refusing = false;
  }

  /**
   * Terminates the old copy's other sessions and waits (bounded) until they are gone. Through the administrative connection; if that one failed, through the fence's own
   * (whose `pg_stat_activity` view must then be refreshed, it is cached per transaction).
   * Returns how many sessions were terminated.
   */
  async terminateOthers(timeoutMs = 5_000): Promise<number> {
    try {
      return await this.terminateVia(this.admin, false, timeoutMs);
    } catch {
      return this.terminateVia(this.runner, true, timeoutMs);
    }
  }

  /**
   * Ends the fence's transaction (nothing was written in it); returns how long writes were held.
   * Idempotent: the first call measures.
   */
  async release(): Promise<number> {
    if (this.releasedAfterMs === undefined) {
      this.releasedAfterMs = this.heldMs;
      await this.runner.query('ROLLBACK').catch(() => undefined);
    }
    return this.releasedAfterMs;
  }

  private async terminateVia(runner: QueryRunner, clearSnapshot: boolean, timeoutMs: number): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    const terminated = new Set<number>();
    for (;;) {
      if (clearSnapshot) await runner.query('SELECT pg_stat_clear_snapshot()');
      const sessions = await selectRows<{ pid: number; signalled: boolean }>(runner, this.closer.terminateSql, [
        this.pid,
        ...this.closer.terminateParams,
      ]);
      for (const session of sessions) if (session.signalled) terminated.add(session.pid);
      if (sessions.length === 0 || performance.now() > deadline) return terminated.size;
      // Terminated backends leave pg_stat_activity a moment after the signal.
      await delay(10);
    }
  }

  private async backendPid(): Promise<number> {
    const rows = await selectRows<{ pid: number }>(this.runner, 'SELECT pg_backend_pid() AS pid');
    return rows[0]!.pid;
  }
}
