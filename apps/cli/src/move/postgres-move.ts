import type { CatalogAdminService, CatalogService, Placement, PlacementView } from '#polystore/catalog';
import {
  connectionOptions,
  DatabaseAdmin,
  maintenanceDatabase,
  migrateDatabase,
  parseServerUrl,
  type ServerAddress,
  type StoreSchema,
} from '#polystore/data-router';
import { DataSource, type QueryRunner } from 'typeorm';
import { appliedMigrations } from './query.util.js';
import { MoveException } from './move.exception.js';
import type { MovedTable, MoveReport } from './move-report.js';
import { applyExactTextSettings, copySequences, copyTable, digestTable, emptyTables } from './postgres-copy.util.js';
import { PostgresWriteFence } from './postgres-fence.js';
import {
  insertOrder,
  quoteIdent,
  readDatabaseShape,
  shapeDifference,
  type DatabaseShape,
  type TableShape,
} from './postgres-schema.util.js';
import { switchPlacement, type SwitchState } from './placement-switch.util.js';
import { asUnreachable } from './unreachable.util.js';

/** Tuning of a move (defaults in `TenantMover`). */
export interface MoveSettings {
  /** How long the fence may keep trying to lock the tables before giving up. */
  readonly lockTimeoutMs: number;
  /** Rows per copy batch. */
  readonly batchRows: number;
  readonly connectTimeoutMs: number;
}

/** One PostgreSQL move, fully resolved and checked by `TenantMover`. */
export interface PostgresMovePlan {
  readonly placement: Placement;
  /** Target server URL, credentials included (used only to connect and to seal into the catalog). */
  readonly to: string;
  readonly schema: StoreSchema;
  readonly dropSource: boolean;
  readonly settings: MoveSettings;
  readonly progress: (phase: string) => void;
}

type MoveResult = Omit<MoveReport, 'durationMs'>;

const APPLICATION_NAME = 'polystore-move';

/**
 * Moves one tenant database from one PostgreSQL server to another: the target is created and
 * migrated by the stores' own migrations, then, under the source's write fence, every row is
 * copied, counted and checksummed on both sides, the source stops accepting connections, the
 * placement is switched, the source's sessions are terminated, and the fence is released.
 * Anything that fails before the switch rolls back: the target is dropped, the source is
 * unlocked and connectable again, the placement is untouched.
 */
export class PostgresMove {
  private readonly from: ServerAddress;
  private readonly target: ServerAddress;
  private readonly dataSources: DataSource[] = [];
  private readonly runners: QueryRunner[] = [];
  private targetDs?: DataSource;
  /** Set once the target database is known to be this move's (created by it, or empty). */
  private ownsTarget = false;
  private state: SwitchState = 'before-switch';

  constructor(
    private readonly plan: PostgresMovePlan,
    private readonly catalogAdmin: CatalogAdminService,
    private readonly catalog: CatalogService,
  ) {
    this.from = parseServerUrl(plan.placement.serverUrl);
    this.target = parseServerUrl(plan.to);
  }

  private get database(): string {
    return this.plan.placement.database;
  }

  async run(): Promise<MoveResult> {
    try {
      await this.prepareTarget();
      return await this.fencedCopyAndSwitch();
    } catch (error) {
      if (this.state === 'before-switch' && this.ownsTarget) await this.dropTarget();
      throw error;
    } finally {
      // Released first: a pool waits for its checked-out connections before it closes.
      await Promise.all(this.runners.map((runner) => runner.release().catch(() => undefined)));
      await Promise.all(this.dataSources.map((ds) => ds.destroy().catch(() => undefined)));
    }
  }

  /** Creates the target database (refusing one that already has tables) and migrates it. */
  private async prepareTarget(): Promise<void> {
    this.plan.progress('prepare target');
    const created = await asUnreachable(
      () => DatabaseAdmin.ensureDatabase(this.plan.to, this.database),
      (reason, cause) => MoveException.targetUnreachable(this.target.id, reason, cause),
    );
    this.targetDs = await this.open(this.target, this.database, this.plan.schema, 'target');
    if (!created && (await countTables(this.targetDs)) > 0) {
      throw MoveException.targetNotEmpty(this.target.id, this.database);
    }
    this.ownsTarget = true;
    this.plan.progress('migrate target');
    await migrateDatabase(this.targetDs);
  }

  private async fencedCopyAndSwitch(): Promise<MoveResult> {
    const source = await this.runnerOn(this.database);
    const admin = await this.runnerOn(maintenanceDatabase('postgres'));
    const target = this.targetDs!.createQueryRunner();
    this.runners.push(target);
    await target.connect();
    const locked = (await readDatabaseShape(source)).tables
      .map((t) => t.name)
      .filter((name) => name !== this.migrationsTable);
    const fence = new PostgresWriteFence(source, admin, this.database);
    this.plan.progress('pause writes');
    const fenceAttempts = await fence.acquire(locked, this.plan.settings.lockTimeoutMs);
    let copied: { tables: MovedTable[]; sequences: number };
    let after: PlacementView | Placement;
    try {
      copied = await this.copyAndVerify(source, target, locked);
      this.plan.progress('switch placement');
      await fence.refuseConnections();
      after = await this.switchPlacement();
    } catch (error) {
      await target.query('ROLLBACK').catch(() => undefined);
      // After an unknown switch outcome the old copy stays closed: better unavailable than written twice.
      if (this.state === 'switch-unknown') await fence.terminateOthers().catch(() => undefined);
      else await fence.allowConnections();
      await fence.release();
      throw error;
    }
    this.plan.progress('terminate old sessions');
    const sessionsTerminated = await fence.terminateOthers().catch(async (error: unknown) => {
      await fence.release();
      throw MoveException.fenceIncomplete(this.from.id, this.target.id, error);
    });
    const writesPausedMs = await fence.release();
    return {
      tenant: this.plan.placement.tenant,
      store: this.plan.placement.store,
      database: this.database,
      from: this.from.id,
      to: this.target.id,
      ...copied,
      placementVersion: { before: this.plan.placement.version, after: after.version },
      writesPausedMs,
      fenceAttempts,
      sessionsTerminated,
      sourceDatabase: await this.disposeSource(),
    };
  }

  /**
   * In the fence's snapshot: checks that both sides have the same tables and migrations, copies
   * every table (parents before children) and the sequences in one target transaction, compares
   * counts and checksums, and commits the target only when everything matches.
   */
  private async copyAndVerify(
    source: QueryRunner,
    target: QueryRunner,
    locked: readonly string[],
  ): Promise<{ tables: MovedTable[]; sequences: number }> {
    await applyExactTextSettings(source);
    await target.query('BEGIN');
    await applyExactTextSettings(target);
    const shape = await this.checkSameSchema(source, target);
    const tables = insertOrder(shape).filter((t) => t.name !== this.migrationsTable);
    if (!sameNames(tables, locked)) throw MoveException.schemaMismatch('tables changed while the move started');
    this.plan.progress('copy');
    await emptyTables(target, tables);
    for (const table of tables) await copyTable(source, target, table, this.plan.settings.batchRows);
    await copySequences(source, target, shape.sequences);
    this.plan.progress('verify');
    const moved = await digestBoth(source, target, tables);
    const differing = moved.filter((t) => t.source.rows !== t.target.rows || t.source.checksum !== t.target.checksum);
    if (differing.length > 0) throw MoveException.verificationFailed(differing.map((t) => t.table));
    await target.query('COMMIT');
    return { tables: moved, sequences: shape.sequences.length };
  }

  private async checkSameSchema(source: QueryRunner, target: QueryRunner): Promise<DatabaseShape> {
    const [mine, theirs] = [await readDatabaseShape(source), await readDatabaseShape(target)];
    const difference = shapeDifference(mine, theirs);
    if (difference) throw MoveException.schemaMismatch(difference);
    const [applied, applying] = [await this.migrationNames(source), await this.migrationNames(target)];
    if (applied !== applying) throw MoveException.schemaMismatch(`migrations [${applied}] vs [${applying}]`);
    return mine;
  }

  private migrationNames(runner: QueryRunner): Promise<string> {
    return appliedMigrations(runner, quoteIdent(this.migrationsTable));
  }

  private switchPlacement(): Promise<PlacementView | Placement> {
    return switchPlacement(
      this.catalogAdmin,
      this.catalog,
      this.plan.placement,
      this.plan.to,
      this.target.id,
      (state) => (this.state = state),
      (cause) => MoveException.switchUnknown(this.from.id, this.database, cause),
    );
  }

  private async disposeSource(): Promise<MoveReport['sourceDatabase']> {
    if (!this.plan.dropSource) return 'kept, refusing connections';
    this.plan.progress('drop source');
    await DatabaseAdmin.dropDatabase(this.plan.placement.serverUrl, this.database);
    return 'dropped';
  }

  /** Best effort: the error that aborted the move is the one to report. */
  private async dropTarget(): Promise<void> {
    for (const runner of this.runners) await runner.release().catch(() => undefined);
    await this.targetDs?.destroy().catch(() => undefined);
    await DatabaseAdmin.dropDatabase(this.plan.to, this.database).catch(() => undefined);
  }

  private get migrationsTable(): string {
    return this.plan.schema.migrationsTableName ?? 'migrations';
  }

  /** A dedicated connection to a database of the source server. */
  private async runnerOn(database: string | undefined): Promise<QueryRunner> {
    const ds = await this.open(this.from, database, { entities: [] }, 'source');
    const runner = ds.createQueryRunner();
    this.runners.push(runner);
    await runner.connect();
    return runner;
  }

  private async open(
    address: ServerAddress,
    database: string | undefined,
    schema: StoreSchema,
    side: 'source' | 'target',
  ): Promise<DataSource> {
    const ds = new DataSource(
      connectionOptions(address, database, schema, {
        poolSize: 2,
        applicationName: APPLICATION_NAME,
        connectTimeoutMs: this.plan.settings.connectTimeoutMs,
      }),
    );
    await asUnreachable(
      () => ds.initialize(),
      (reason, cause) =>
        side === 'source'
          ? MoveException.sourceUnreachable(address.id, reason, cause)
          : MoveException.targetUnreachable(address.id, reason, cause),
    );
    this.dataSources.push(ds);
    return ds;
  }
}

async function digestBoth(
  source: QueryRunner,
  target: QueryRunner,
  tables: readonly TableShape[],
): Promise<MovedTable[]> {
  const moved: MovedTable[] = [];
  for (const table of tables) {
    moved.push({
      table: table.name,
      source: await digestTable(source, table),
      target: await digestTable(target, table),
    });
  }
  return moved;
}

function sameNames(tables: readonly TableShape[], names: readonly string[]): boolean {
  return (
    tables
      .map((t) => t.name)
      .sort()
      .join() === [...names].sort().join()
  );
}

async function countTables(ds: DataSource): Promise<number> {
  const rows: Array<{ n: number }> = await ds.query(
    `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname NOT LIKE 'pg\\_%'`,
  );
  return rows[0]!.n;
}
