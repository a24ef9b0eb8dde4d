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
 * The write fence on a PostgreSQL source database: one REPEATABLE READ transaction holding
 * `EXCLUSIVE` locks on the tenant's tables (readers go on, every writer waits), whose snapshot is
 * what gets copied. Closing it for good is four steps in this order: refuse new connections
 * (from a second, administrative connection, so it takes effect at once), switch the placement
 * (the caller), terminate every other session of the database (the writers waiting on the lock
 * fail and their clients retry against the new placement), and only then release the locks.
 */
export class PostgresWriteFence {
  private lockedAt?: number;
  private pid?: number;
  private refusing = false;
  private releasedAfterMs?: number;

  constructor(
    /** A dedicated connection to the source database. */
    private readonly runner: QueryRunner,
    /** A connection to the same server's maintenance database. */
    private readonly admin: QueryRunner,
    private readonly database: string,
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

  /** `ALTER DATABASE ... ALLOW_CONNECTIONS false`: from now on nobody (superusers included) connects. */
  async refuseConnections(): Promise<void> {
    await this.admin.query(`ALTER DATABASE ${quoteDatabaseName('postgres', this.database)} ALLOW_CONNECTIONS false`);
    this.refusing = true;
  }

  /** Undoes {@link refuseConnections} (a move that aborts before its switch). */
  async allowConnections(): Promise<void> {
    if (!this.refusing) return;
    await this.admin.query(`ALTER DATABASE ${quoteDatabaseName('postgres', this.database)} ALLOW_CONNECTIONS true`);
    this.refusing = false;
  }

  /**
   * Terminates every other session of the source database and waits (bounded) until they are
   * gone. Through the administrative connection; if that one failed, through the fence's own
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
      const sessions = await selectRows<{ pid: number; signalled: boolean }>(
        runner,
        `SELECT pid, pg_terminate_backend(pid) AS signalled FROM pg_stat_activity WHERE datname = $1 AND pid <> $2`,
        [this.database, this.pid],
      );
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
