import type { CatalogAdminService, CatalogService, Placement, PlacementView } from '#polystore/catalog';
import {
  connectionOptions,
  DatabaseAdmin,
  migrateDatabase,
  parseServerUrl,
  SchemaAdmin,
  ServerRoles,
  type ServerAddress,
  type StoreSchema,
} from '#polystore/data-router';
import { DataSource, type DataSourceOptions, type QueryRunner } from 'typeorm';
import { MoveException } from './move.exception.js';
import type { MovedTable, MoveReport } from './move-report.js';
import { switchPlacement, type SwitchState } from './placement-switch.util.js';
import type { PostgresMovePlan } from './postgres-move.js';
import { appliedMigrations } from './query.util.js';
import { asUnreachable } from './unreachable.util.js';

export type MoveResult = Omit<MoveReport, 'durationMs'>;

/** What a move copied: every table with its counts and checksums, and the counters carried over. */
export interface CopyOutcome {
  readonly tables: MovedTable[];
  readonly sequences: number;
}

const APPLICATION_NAME = 'polystore-move';

/**
 * What every dialect's move shares: the connections it opened (released and closed by
 * {@link closeAll}), creating and migrating the target, the checks of the copy, the catalog
 * switch and the report. The dialect classes hold the fence, the copy and the rollback.
 */
export abstract class DatabaseMove {
  protected readonly from: ServerAddress;
  protected readonly target: ServerAddress;
  protected targetDs?: DataSource;
  /** Set once the target database is known to be this move's (created by it, or empty). */
  protected ownsTarget = false;
  protected state: SwitchState = 'before-switch';
  private readonly dataSources: DataSource[] = [];
  private readonly runners: QueryRunner[] = [];

  constructor(
    protected readonly plan: PostgresMovePlan,
    private readonly catalogAdmin: CatalogAdminService,
    private readonly catalog: CatalogService,
  ) {
    this.from = parseServerUrl(plan.sourceUrl);
    this.target = parseServerUrl(plan.to);
  }

  /** The source database (for a schema placement, the shared database that holds it). */
  protected get database(): string {
    return this.plan.placement.database;
  }

  /** Where the data goes on the target: a database of its own, or a schema in a shared database. */
  protected get layout() {
    return this.plan.layout;
  }

  protected get migrationsTable(): string {
    return this.plan.schema.migrationsTableName ?? 'migrations';
  }

  /**
   * Tables in the target database, or in the target schema (a target that already has some is not
   * this move's to fill).
   */
  protected abstract countTables(ds: DataSource, schema: string | undefined): Promise<number>;

  /** Releases every connection first (a pool waits for its checked-out ones), then closes every DataSource. */
  protected async closeAll(): Promise<void> {
    await Promise.all(this.runners.splice(0).map((runner) => runner.release().catch(() => undefined)));
    await Promise.all(this.dataSources.splice(0).map((ds) => ds.destroy().catch(() => undefined)));
  }

  /**
   * Creates the target (a database; or a schema, its role and the stores' runtime login in the
   * shared database), refusing one that already has tables, and migrates it with the stores'
   * own migrations (in a schema: as the tenant's role, so it owns everything, as provisioning does).
   */
  protected async prepareTarget(): Promise<void> {
    this.plan.progress('prepare target');
    const { database, schema } = this.layout;
    const { targetLogin } = this.plan;
    const created = await asUnreachable(
      () =>
        schema !== undefined
          ? SchemaAdmin.ensureTenantSchema(this.plan.to, database, schema, this.runtimeLogin())
          : targetLogin
            ? ServerRoles.ensureTenantDatabase(this.plan.to, database, targetLogin)
            : DatabaseAdmin.ensureDatabase(this.plan.to, database),
      (reason, cause) => MoveException.targetUnreachable(this.target.id, reason, cause),
    );
    // Bound to the role that must own what the migrations and the copy create.
    const binding =
      schema !== undefined
        ? { role: schema, searchPath: schema }
        : targetLogin
          ? { role: targetLogin.username }
          : undefined;
    this.targetDs = await this.open(this.target, database, this.plan.schema, 'target', binding);
    if (!created && (await this.countTables(this.targetDs, schema)) > 0) {
      throw MoveException.targetNotEmpty(this.target.id, schema === undefined ? database : `${database}.${schema}`);
    }
    this.ownsTarget = true;
    this.plan.progress('migrate target');
    await migrateDatabase(this.targetDs);
  }

  private runtimeLogin() {
    if (!this.plan.runtimeLogin)
      throw MoveException.notSupported("a move into a schema without the stores' runtime login (MASTER_KEY)");
    return this.plan.runtimeLogin;
  }

  /** Pool size and driver options of every DataSource the move opens (the dialect may add its own). */
  protected readonly driver: { readonly poolSize: number; readonly extra?: Partial<DataSourceOptions> } = {
    poolSize: 2,
  };

  /**
   * A DataSource of the move, closed by {@link closeAll}. With `binding` (PostgreSQL), its
   * sessions start as that role (`-c role`: what is created is owned by the tenant's role or the
   * placement's own login) and, for a tenant schema, with that search path (the names are the
   * schema's).
   */
  protected async open(
    address: ServerAddress,
    database: string | undefined,
    schema: StoreSchema,
    side: 'source' | 'target',
    binding?: { readonly role: string; readonly searchPath?: string },
  ): Promise<DataSource> {
    const { driver } = this;
    const base = connectionOptions(address, database, schema, {
      poolSize: driver.poolSize,
      applicationName: APPLICATION_NAME,
      connectTimeoutMs: this.plan.settings.connectTimeoutMs,
    });
    const options = { ...base, ...driver.extra } as DataSourceOptions;
    if (binding !== undefined) {
      // Names are validated placement names ([a-z][a-z0-9_]*): no quoting needed in the option string.
      for (const name of [binding.role, binding.searchPath ?? binding.role])
        if (!/^[a-z][a-z0-9_]{0,62}$/.test(name)) throw MoveException.notSupported(`the name ${name}`);
      const extra = (base.extra ?? {}) as Record<string, unknown>;
      const searchPath = binding.searchPath === undefined ? '' : `-c search_path=${binding.searchPath} `;
      Object.assign(options, { extra: { ...extra, options: `${searchPath}-c role=${binding.role}` } });
    }
    const ds = new DataSource(options);
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

  /** A dedicated connection of `ds`, released by {@link closeAll}. */
  protected async runnerOf(ds: DataSource): Promise<QueryRunner> {
    const runner = ds.createQueryRunner();
    this.runners.push(runner);
    await runner.connect();
    return runner;
  }

  /** Both sides applied the same migrations (`quotedTable`: the migrations table, quoted for the dialect). */
  protected async checkSameMigrations(source: QueryRunner, target: QueryRunner, quotedTable: string): Promise<void> {
    const [applied, applying] = [
      await appliedMigrations(source, quotedTable),
      await appliedMigrations(target, quotedTable),
    ];
    if (applied !== applying) throw MoveException.schemaMismatch(`migrations [${applied}] vs [${applying}]`);
  }

  /** The catalog write; `unknown` builds the error of a lost outcome (see `switchPlacement`). */
  protected switchPlacement(unknown: (cause: unknown) => Error): Promise<PlacementView | Placement> {
    return switchPlacement(
      this.catalogAdmin,
      this.catalog,
      this.plan.placement,
      this.plan.recordTo,
      this.layout,
      this.target.id,
      (state) => (this.state = state),
      unknown,
    );
  }

  /** The report of a finished move. */
  protected report(
    copied: CopyOutcome,
    after: PlacementView | Placement,
    rest: Pick<
      MoveResult,
      'writesPausedMs' | 'fenceAttempts' | 'sessionsTerminated' | 'sourceDatabase' | 'sourceTablesMovedTo'
    >,
  ): MoveResult {
    const { placement } = this.plan;
    return {
      tenant: placement.tenant,
      store: placement.store,
      database: this.database,
      from: this.from.id,
      to: this.target.id,
      kind: { before: placement.kind, after: this.layout.kind },
      location: { before: locationOf(placement), after: locationOf(this.layout) },
      ...copied,
      placementVersion: { before: this.plan.placement.version, after: after.version },
      ...rest,
    };
  }
}

/** `<database>` or `<database>.<schema>`. */
function locationOf(where: { readonly database: string; readonly schema?: string }): string {
  return where.schema === undefined ? where.database : `${where.database}.${where.schema}`;
}

/** Fails the move unless every table has the same row count and checksum on both sides. */
export function assertCopiesMatch(moved: readonly MovedTable[]): void {
  const differing = moved.filter((t) => t.source.rows !== t.target.rows || t.source.checksum !== t.target.checksum);
  if (differing.length > 0) throw MoveException.verificationFailed(differing.map((t) => t.table));
}

/** The same set of table names. */
export function sameNames(tables: ReadonlyArray<{ readonly name: string }>, names: readonly string[]): boolean {
  return (
    tables
      .map((t) => t.name)
      .sort()
      .join() === [...names].sort().join()
  );
}
