import { setTimeout as delay } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { classifySqlError, quoteDatabaseName } from '#polystore/data-router';
import type { QueryRunner } from 'typeorm';
import { selectRows } from './query.util.js';
import { MoveException } from './move.exception.js';
import { quoteMysqlIdent } from './mysql-schema.util.js';

/** Each attempt waits at most this long for the writers in flight before letting them through again. */
const MAX_ATTEMPT_WAIT_MS = 500;

/**
 * The write fence on a MariaDB/MySQL source database. MariaDB has no per-database "refuse
 * connections", so the old copy is closed by taking its tables away:
 *
 * 1. `LOCK TABLES <every table> WRITE` on the copying session: every other reader and writer of
 *    those tables waits (metadata lock); this session alone reads them, unchanged, for the copy.
 * 2. Still under the lock, `ALTER TABLE src.t RENAME TO backup.t` for each table (MariaDB refuses
 *    `RENAME TABLE` under `LOCK TABLES`, error 1192, but allows `ALTER TABLE ... RENAME` of a
 *    table the session write-locked). A table not yet renamed is still locked; a renamed one no
 *    longer exists under its old name: the statements waiting on it fail with
 *    `ER_NO_SUCH_TABLE` (1146), which the stores answer with a retryable 503.
 * 3. The caller switches the placement, then `UNLOCK TABLES` and every other session still using
 *    the source database is killed (and the caller drops the emptied database). A stale process
 *    writing to the old database afterwards gets "table doesn't exist" or "unknown database": it
 *    fails loudly, nothing lands there.
 */
export class MysqlWriteFence {
  private lockedAt?: number;
  private connectionId?: number;
  private locked = false;
  private readonly renamed: string[] = [];
  private releasedAfterMs?: number;

  constructor(
    /** A dedicated connection to the source database (the copying session). */
    private readonly runner: QueryRunner,
    /** A second connection to the same server, for `KILL`. */
    private readonly admin: QueryRunner,
    private readonly database: string,
    private readonly flavor: 'mysql' | 'mariadb',
  ) {}

  /**
   * Takes the locks. Each attempt waits a short, growing time (25 ms, 50 ms, ... 500 ms on MariaDB
   * with `LOCK TABLES ... WAIT n`; whole seconds on MySQL, whose `lock_wait_timeout` has no
   * fraction), then gives way to the writers in flight and tries again. A transaction that the
   * metadata-lock deadlock detector chooses as victim gets `ER_LOCK_DEADLOCK`, retryable.
   * Returns the attempts needed; `MOVE_LOCK_TIMEOUT` after `budgetMs`.
   */
  async acquire(tables: readonly string[], budgetMs: number): Promise<number> {
    if (tables.length === 0) throw MoveException.notSupported('a database without tables');
    const list = tables.map((t) => `${quoteMysqlIdent(t)} WRITE`).join(', ');
    const started = performance.now();
    this.connectionId = await this.ownConnectionId();
    for (let attempt = 1; ; attempt++) {
      const waitMs = Math.min(25 * attempt, MAX_ATTEMPT_WAIT_MS);
      try {
        let statement = `LOCK TABLES ${list}`;
        if (this.flavor === 'mariadb') statement += ` WAIT ${(waitMs / 1000).toFixed(3)}`;
        else await this.runner.query('SET SESSION lock_wait_timeout = 1');
        // Writers queue behind the lock request as soon as it is made: the pause starts here.
        const requestedAt = performance.now();
        await this.runner.query(statement);
        this.lockedAt = requestedAt;
        this.locked = true;
        return attempt;
      } catch (error) {
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

  /**
   * Moves every locked table into `backup` (an existing, empty database on the same server),
   * one `ALTER TABLE ... RENAME` each, under the lock. On a failure part-way, the tables already
   * moved are moved back (after the unlock, with one atomic `RENAME TABLE`) and the error rethrown.
   */
  async renameAway(tables: readonly string[], backup: string): Promise<void> {
    const from = quoteDatabaseName('mysql', this.database);
    const to = quoteDatabaseName('mysql', backup);
    try {
      for (const table of tables) {
        const name = quoteMysqlIdent(table);
        await this.runner.query(`ALTER TABLE ${from}.${name} RENAME TO ${to}.${name}`);
        this.renamed.push(table);
      }
    } catch (error) {
      await this.restore(backup);
      throw error;
    }
  }

  /**
   * Undoes {@link renameAway} (a move that aborts before its switch): unlocks (the renamed tables
   * are no longer locked by this session, `RENAME TABLE` needs no lock mode) and moves the
   * tables back in one atomic `RENAME TABLE`.
   */
  async restore(backup: string): Promise<void> {
    await this.unlock();
    if (this.renamed.length === 0) return;
    const from = quoteDatabaseName('mysql', this.database);
    const to = quoteDatabaseName('mysql', backup);
    const pairs = this.renamed.map((t) => `${to}.${quoteMysqlIdent(t)} TO ${from}.${quoteMysqlIdent(t)}`);
    await this.admin.query(`RENAME TABLE ${pairs.join(', ')}`);
    this.renamed.length = 0;
  }

  /** How many tables {@link renameAway} moved (all of them once it returned). */
  get renamedCount(): number {
    return this.renamed.length;
  }

  /**
   * Kills every other session whose current database is the source and waits (bounded) until
   * they are gone. Returns how many were killed.
   */
  async killOthers(timeoutMs = 5_000): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    const killed = new Set<number>();
    const own = await this.adminConnectionId();
    for (;;) {
      const sessions = await selectRows<{ id: number | string }>(
        this.admin,
        'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> ? AND ID <> ?',
        [this.database, this.connectionId ?? 0, own],
      );
      for (const session of sessions) {
        const id = Number(session.id);
        if (!Number.isSafeInteger(id) || killed.has(id)) continue;
        // ER_NO_SUCH_THREAD: it ended on its own meanwhile.
        await this.admin.query(`KILL CONNECTION ${id}`).catch(() => undefined);
        killed.add(id);
      }
      if (sessions.length === 0 || performance.now() > deadline) return killed.size;
      await delay(10);
    }
  }

  /** Ends the fence (`UNLOCK TABLES`); returns how long writes were held. Idempotent. */
  async release(): Promise<number> {
    if (this.releasedAfterMs === undefined) {
      this.releasedAfterMs = this.heldMs;
      await this.unlock();
    }
    return this.releasedAfterMs;
  }

  private async unlock(): Promise<void> {
    if (!this.locked) return;
    await this.runner.query('UNLOCK TABLES');
    this.locked = false;
  }

  private async ownConnectionId(): Promise<number> {
    const rows = await selectRows<{ id: number | string }>(this.runner, 'SELECT CONNECTION_ID() AS id');
    return Number(rows[0]!.id);
  }

  private async adminConnectionId(): Promise<number> {
    const rows = await selectRows<{ id: number | string }>(this.admin, 'SELECT CONNECTION_ID() AS id');
    return Number(rows[0]!.id);
  }
}
