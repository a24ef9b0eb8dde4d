import type { Placement, PlacementView } from '#polystore/catalog';
import { DatabaseAdmin, MYSQL_MIGRATION_LOCK } from '#polystore/data-router';
import { type DataSource, type DataSourceOptions, type QueryRunner } from 'typeorm';
import { selectRows } from './query.util.js';
import { MoveException } from './move.exception.js';
import { movedName } from './moved-name.util.js';
import type { MovedTable, MoveReport } from './move-report.js';
import {
  applyMysqlSessionSettings,
  copyAutoIncrements,
  copyMysqlTable,
  digestMysqlTable,
  emptyMysqlTables,
} from './mysql-copy.util.js';
import { MysqlWriteFence } from './mysql-fence.js';
import { mysqlShapeDifference, quoteMysqlIdent, readMysqlShape, type MysqlDatabaseShape } from './mysql-schema.util.js';
import type { PostgresMovePlan } from './postgres-move.js';
import { assertCopiesMatch, DatabaseMove, sameNames, type CopyOutcome, type MoveResult } from './database-move.js';

/** One MariaDB/MySQL move, fully resolved and checked by `TenantMover` (same fields as PostgreSQL's). */
export type MysqlMovePlan = PostgresMovePlan;

/**
 * DataSources whose rows keep the server's own text for dates, decimals and big integers
 * (`dateStrings`, `bigNumberStrings`): what is read is written back unchanged.
 */
const EXACT_TEXT = {
  poolSize: 3,
  extra: { dateStrings: true, supportBigNumbers: true, bigNumberStrings: true } as Partial<DataSourceOptions>,
};

/** `<database>_m<yyyymmddhhmmss>` (UTC): where the old copy's tables go. */
export function movedDatabaseName(database: string, at: Date): string {
  return movedName(database, at, 64);
}

/**
 * Moves one tenant database from one MariaDB/MySQL server to another: the target is created and
 * migrated by the store's own migrations, then, holding the source server's migration lock and
 * under the source's write fence (`LOCK TABLES ... WRITE`, see {@link MysqlWriteFence}), every
 * row is copied, counted and checksummed on both sides, every source table is renamed into
 * `<db>_m<timestamp>` (still under the lock: from then on the old database has no tables, a
 * stale writer fails with "table doesn't exist"), the placement is switched, the lock released,
 * the old database's sessions killed and the emptied database dropped. Anything that fails before
 * the switch rolls back: the tables are renamed back, the lock released, the target and the
 * backup database dropped, the placement untouched.
 */
export class MysqlMove extends DatabaseMove {
  protected override readonly driver = EXACT_TEXT;
  /** The backup database, once this move created it (empty until the rename). */
  private backup?: string;
  /** Set when the old tables could not be renamed back: the backup database then holds them. */
  private backupHoldsTables = false;

  async run(): Promise<MoveResult> {
    try {
      const backup = movedDatabaseName(this.database, new Date());
      await this.prepareTarget();
      return await this.fencedCopyAndSwitch(backup);
    } catch (error) {
      if (this.state === 'before-switch') {
        if (this.ownsTarget) await this.dropQuietly(this.plan.to, this.database);
        if (this.backup && !this.backupHoldsTables) await this.dropQuietly(this.plan.sourceUrl, this.backup);
      }
      throw error;
    } finally {
      await this.closeAll();
    }
  }

  private async fencedCopyAndSwitch(backup: string): Promise<MoveResult> {
    const sourceDs = await this.open(this.from, this.database, this.plan.schema, 'source');
    const source = await this.runnerOf(sourceDs);
    const admin = await this.runnerOf(sourceDs);
    const target = await this.runnerOf(this.targetDs!);
    const before = await readMysqlShape(source, this.database);
    const names = before.tables.map((t) => t.name);
    // The backup database, on the source server, before anything is locked.
    if (!(await DatabaseAdmin.ensureDatabase(this.plan.sourceUrl, backup))) {
      throw MoveException.targetNotEmpty(this.from.id, backup);
    }
    this.backup = backup;
    await this.holdMigrationLock(admin);
    try {
      return await this.fenced(source, admin, target, names, backup);
    } finally {
      await admin.query('SELECT RELEASE_LOCK(?)', [MYSQL_MIGRATION_LOCK]).catch(() => undefined);
    }
  }

  /**
   * The source server's migration lock (`GET_LOCK`, the one `migrateDatabase` takes), held from
   * before the fence until the emptied source database is dropped: a migration run that read the
   * old placement cannot recreate empty tables there for a stale writer to fill.
   */
  private async holdMigrationLock(admin: QueryRunner): Promise<void> {
    const waitSeconds = Math.max(1, Math.ceil(this.plan.settings.lockTimeoutMs / 1000));
    const rows = await selectRows<{ locked: number | string | null }>(admin, 'SELECT GET_LOCK(?, ?) AS locked', [
      MYSQL_MIGRATION_LOCK,
      waitSeconds,
    ]);
    if (Number(rows[0]?.locked) !== 1) throw MoveException.lockTimeout(waitSeconds * 1000);
  }

  private async fenced(
    source: QueryRunner,
    admin: QueryRunner,
    target: QueryRunner,
    names: readonly string[],
    backup: string,
  ): Promise<MoveResult> {
    const fence = new MysqlWriteFence(source, admin, this.database, await flavorOf(source));
    this.plan.progress('pause writes');
    const fenceAttempts = await fence.acquire(names, this.plan.settings.lockTimeoutMs);
    let copied: CopyOutcome;
    let after: PlacementView | Placement;
    try {
      copied = await this.copyAndVerify(source, target, names);
      this.plan.progress('rename old tables');
      await fence.renameAway(names, backup);
      this.plan.progress('switch placement');
      after = await this.switchPlacement((cause) =>
        MoveException.switchUnknownRenamed(this.from.id, this.database, backup, cause),
      );
    } catch (error) {
      await target.query('ROLLBACK').catch(() => undefined);
      // After an unknown switch outcome the old tables stay renamed away: better unavailable than written twice.
      if (this.state === 'switch-unknown') await fence.release().catch(() => undefined);
      else {
        await fence.restore(backup).catch((restoreError: unknown) => {
          this.backupHoldsTables = true;
          throw MoveException.restoreFailed(this.from.id, this.database, backup, restoreError);
        });
      }
      throw error;
    }
    const writesPausedMs = await fence.release();
    this.plan.progress('kill old sessions');
    const sessionsTerminated = await fence.killOthers().catch(() => 0);
    return this.report(copied, after, {
      writesPausedMs,
      fenceAttempts,
      sessionsTerminated,
      sourceDatabase: await this.disposeSource(admin, backup),
      ...(this.plan.dropSource ? {} : { sourceTablesMovedTo: backup }),
    });
  }

  /**
   * Under the lock: checks that both sides have the same tables and migrations, copies every
   * table in one target transaction, compares counts and checksums, commits the target only when
   * everything matches, then carries the `AUTO_INCREMENT` positions over. Returns the tables and
   * the number of counters carried.
   */
  private async copyAndVerify(
    source: QueryRunner,
    target: QueryRunner,
    locked: readonly string[],
  ): Promise<CopyOutcome> {
    await applyMysqlSessionSettings(source);
    await applyMysqlSessionSettings(target);
    const shape = await this.checkSameSchema(source, target);
    if (!sameNames(shape.tables, locked)) throw MoveException.schemaMismatch('tables changed while the move started');
    const tables = shape.tables.filter((t) => t.name !== this.migrationsTable);
    this.plan.progress('copy');
    await target.query('START TRANSACTION');
    await emptyMysqlTables(target, tables);
    for (const table of tables) await copyMysqlTable(source, target, table, this.plan.settings.batchRows);
    this.plan.progress('verify');
    const moved: MovedTable[] = [];
    for (const table of tables) {
      moved.push({
        table: table.name,
        source: await digestMysqlTable(source, table),
        target: await digestMysqlTable(target, table),
      });
    }
    assertCopiesMatch(moved);
    await target.query('COMMIT');
    const sequences = await copyAutoIncrements(target, tables);
    return { tables: moved, sequences };
  }

  private async checkSameSchema(source: QueryRunner, target: QueryRunner): Promise<MysqlDatabaseShape> {
    const [mine, theirs] = [await readMysqlShape(source, this.database), await readMysqlShape(target, this.database)];
    const difference = mysqlShapeDifference(mine, theirs);
    if (difference) throw MoveException.schemaMismatch(difference);
    if (!mine.tables.some((t) => t.name === this.migrationsTable)) {
      throw MoveException.schemaMismatch(`no ${this.migrationsTable} table on the source`);
    }
    await this.checkSameMigrations(source, target, quoteMysqlIdent(this.migrationsTable));
    return mine;
  }

  /**
   * The source database, now without tables, is dropped (a stale process then cannot even select
   * it: "unknown database"); if a table appeared in it meanwhile, it is left alone and the move
   * fails with `MOVE_FENCE_INCOMPLETE`. The old tables stay in the backup database, or are dropped
   * with it (`--drop-source`).
   */
  private async disposeSource(admin: QueryRunner, backup: string): Promise<MoveReport['sourceDatabase']> {
    this.plan.progress('drop source');
    const left = await selectRows<{ n: number | string }>(
      admin,
      'SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?',
      [this.database],
    );
    if (Number(left[0]!.n) > 0) {
      throw MoveException.fenceIncomplete(
        this.from.id,
        this.target.id,
        new Error(`tables reappeared in ${this.database}`),
      );
    }
    await DatabaseAdmin.dropDatabase(this.plan.sourceUrl, this.database);
    if (!this.plan.dropSource) return 'kept, tables renamed away';
    await DatabaseAdmin.dropDatabase(this.plan.sourceUrl, backup);
    return 'dropped';
  }

  /** Best effort: the error that aborted the move is the one to report. */
  private async dropQuietly(serverUrl: string, database: string): Promise<void> {
    await DatabaseAdmin.dropDatabase(serverUrl, database).catch(() => undefined);
  }

  protected async countTables(ds: DataSource): Promise<number> {
    const rows: Array<{ n: number | string }> = await ds.query(
      'SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?',
      [this.database],
    );
    return Number(rows[0]!.n);
  }
}

async function flavorOf(runner: QueryRunner): Promise<'mysql' | 'mariadb'> {
  const rows = await selectRows<{ version: string }>(runner, 'SELECT VERSION() AS version');
  return rows[0]!.version.toLowerCase().includes('mariadb') ? 'mariadb' : 'mysql';
}
