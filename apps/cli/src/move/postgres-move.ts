import type { Placement, PlacementLayout, PlacementView } from '#polystore/catalog';
import {
  DatabaseAdmin,
  maintenanceDatabase,
  SchemaAdmin,
  ServerRoles,
  type RuntimeLogin,
  type ServerLogin,
  type StoreSchema,
} from '#polystore/data-router';
import { type DataSource, type QueryRunner } from 'typeorm';
import { MoveException } from './move.exception.js';
import type { MovedTable, MoveReport } from './move-report.js';
import { applyExactTextSettings, copySequences, copyTable, digestTable, emptyTables } from './postgres-copy.util.js';
import { databaseCloser, PostgresWriteFence, schemaCloser } from './postgres-fence.js';
import { movedName } from './moved-name.util.js';
import { selectRows } from './query.util.js';
import {
  insertOrder,
  quoteIdent,
  readDatabaseShape,
  shapeDifference,
  type DatabaseShape,
  type TableShape,
} from './postgres-schema.util.js';
import { assertCopiesMatch, DatabaseMove, sameNames, type CopyOutcome, type MoveResult } from './database-move.js';

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
  /**
   * The source server's URL the move works with: the placement's, or the provisioning login's
   * where the placement names a store's runtime login (`PROVISIONER_URLS`).
   */
  readonly sourceUrl: string;
  /**
   * The placement's server URL names its own login (a database of its own on PostgreSQL), and
   * `sourceUrl` is the provisioning login the catalog keeps for it: dropping the source drops
   * that login too.
   */
  readonly sourceHasOwnLogin?: boolean;
  /** Target server URL the move works with, credentials included (the same rule as `sourceUrl`). */
  readonly to: string;
  /**
   * A target database of its own on PostgreSQL gets a login of its own (the catalog records it at
   * the switch): made with the database, and everything the move creates there is that login's.
   */
  readonly targetLogin?: ServerLogin;
  /** The target server URL the catalog records (sealing its password): what the operator gave. */
  readonly recordTo: string;
  /** Kind and names on the target: the same as the source's, or another kind (`--kind`). */
  readonly layout: PlacementLayout;
  /** The stores' runtime login, for a move into a schema (its role is granted to it). */
  readonly runtimeLogin?: RuntimeLogin;
  readonly schema: StoreSchema;
  readonly dropSource: boolean;
  readonly settings: MoveSettings;
  readonly progress: (phase: string) => void;
}

/**
 * Moves one tenant's data for one store between PostgreSQL placements: a database of its own or
 * a schema in a shared database, on the same server or another (a schema to a server of its own,
 * a database into a schema, ...). The target is created and migrated by the stores' own
 * migrations, then, under the source's write fence, every row is copied, counted and
 * checksummed on both sides, the old copy is closed (a database stops accepting connections; a
 * schema is renamed away), the placement is switched, the old copy's sessions are terminated, and
 * the fence is released. Anything that fails before the switch rolls back: the target is dropped,
 * the source is unlocked and open again, the placement is untouched.
 */
export class PostgresMove extends DatabaseMove {
  async run(): Promise<MoveResult> {
    try {
      await this.prepareTarget();
      return await this.fencedCopyAndSwitch();
    } catch (error) {
      if (this.state === 'before-switch' && this.ownsTarget) await this.dropTarget();
      throw error;
    } finally {
      await this.closeAll();
    }
  }

  private async fencedCopyAndSwitch(): Promise<MoveResult> {
    const sourceSchema = this.plan.placement.schema;
    const source = await this.runnerOn(this.database, sourceSchema);
    // A schema's old copy is closed from its shared database; a database's, from the maintenance one.
    const admin = await this.runnerOn(sourceSchema === undefined ? maintenanceDatabase('postgres') : this.database);
    const target = await this.runnerOf(this.targetDs!);
    const locked = (await readDatabaseShape(source, sourceSchema === undefined)).tables
      .map((t) => t.name)
      .filter((name) => name !== this.migrationsTable);
    const fence = new PostgresWriteFence(source, admin, await this.closerOf(admin));
    this.plan.progress('pause writes');
    const fenceAttempts = await fence.acquire(locked, this.plan.settings.lockTimeoutMs);
    let copied: CopyOutcome;
    let after: PlacementView | Placement;
    try {
      copied = await this.copyAndVerify(source, target, locked);
      this.plan.progress('switch placement');
      await fence.refuseConnections();
      after = await this.switchPlacement((cause) => MoveException.switchUnknown(this.from.id, this.database, cause));
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
    return this.report(copied, after, {
      writesPausedMs,
      fenceAttempts,
      sessionsTerminated,
      ...(await this.disposeSource()),
    });
  }

  /** Where the old schema goes at the switch (kept until dropped): `<schema>_m<yyyymmddhhmmss>`. */
  private movedSchemaName?: string;

  private async closerOf(admin: QueryRunner) {
    const schema = this.plan.placement.schema;
    if (schema === undefined) return databaseCloser(this.database);
    const [row] = await selectRows<{ oid: number }>(
      admin,
      'SELECT oid::int AS oid FROM pg_namespace WHERE nspname = $1',
      [schema],
    );
    if (!row) throw MoveException.notSupported(`a schema that does not exist (${this.database}.${schema})`);
    this.movedSchemaName = movedName(schema, new Date(), 63);
    return schemaCloser(schema, row.oid, this.movedSchemaName);
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
  ): Promise<CopyOutcome> {
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
    assertCopiesMatch(moved);
    await target.query('COMMIT');
    return { tables: moved, sequences: shape.sequences.length };
  }

  private async checkSameSchema(source: QueryRunner, target: QueryRunner): Promise<DatabaseShape> {
    const [mine, theirs] = [
      await readDatabaseShape(source, this.plan.placement.schema === undefined),
      await readDatabaseShape(target, this.layout.schema === undefined),
    ];
    const difference = shapeDifference(mine, theirs);
    if (difference) throw MoveException.schemaMismatch(difference);
    await this.checkSameMigrations(source, target, quoteIdent(this.migrationsTable));
    return mine;
  }

  private async disposeSource(): Promise<Pick<MoveReport, 'sourceDatabase' | 'sourceTablesMovedTo'>> {
    const { placement } = this.plan;
    if (placement.schema === undefined) {
      if (!this.plan.dropSource) return { sourceDatabase: 'kept, refusing connections' };
      this.plan.progress('drop source');
      if (this.plan.sourceHasOwnLogin) await ServerRoles.dropTenantDatabase(this.plan.sourceUrl, this.database);
      else await DatabaseAdmin.dropDatabase(this.plan.sourceUrl, this.database);
      return { sourceDatabase: 'dropped' };
    }
    if (!this.plan.dropSource)
      return { sourceDatabase: 'kept, schema renamed away', sourceTablesMovedTo: this.movedSchemaName! };
    this.plan.progress('drop source');
    // The renamed schema, then its role (the tenant no longer has a schema on this server).
    await SchemaAdmin.dropSchema(this.plan.sourceUrl, this.database, this.movedSchemaName!);
    await SchemaAdmin.dropRole(this.plan.sourceUrl, this.database, placement.schema).catch(() => undefined);
    return { sourceDatabase: 'dropped' };
  }

  /** Best effort: the error that aborted the move is the one to report. */
  private async dropTarget(): Promise<void> {
    await this.closeAll();
    const { database, schema } = this.layout;
    if (schema === undefined && this.plan.targetLogin)
      await ServerRoles.dropTenantDatabase(this.plan.to, database).catch(() => undefined);
    else if (schema === undefined) await DatabaseAdmin.dropDatabase(this.plan.to, database).catch(() => undefined);
    else await SchemaAdmin.dropTenantSchema(this.plan.to, database, schema).catch(() => undefined);
  }

  /** A dedicated connection to a database of the source server (bound to `schema` when given). */
  private async runnerOn(database: string | undefined, schema?: string): Promise<QueryRunner> {
    const binding = schema === undefined ? undefined : { role: schema, searchPath: schema };
    return this.runnerOf(await this.open(this.from, database, { entities: [] }, 'source', binding));
  }

  protected async countTables(ds: DataSource, schema: string | undefined): Promise<number> {
    const rows: Array<{ n: number }> =
      schema === undefined
        ? await ds.query(
            `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
               AND n.nspname NOT LIKE 'pg\\_%'`,
          )
        : await ds.query(
            `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p') AND n.nspname = $1`,
            [schema],
          );
    return rows[0]!.n;
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
