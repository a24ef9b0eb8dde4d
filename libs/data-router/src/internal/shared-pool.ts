import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { quoteDatabaseName, type Dialect } from '../placement.js';
import { isUnreachable } from './failure.js';
import { Gate } from './gate.js';
import { PoolLanes } from './pool-lanes.js';

/** Transaction isolation levels understood by every SQL dialect the router supports. */
export type IsolationLevel = 'READ UNCOMMITTED' | 'READ COMMITTED' | 'REPEATABLE READ' | 'SERIALIZABLE';

/** Builds the error of a unit that could not get a connection in time. */
export type Busy = (reason: 'queue full' | 'wait timed out') => Error;

/** How one shared pool is bounded. */
export interface SharedPoolLimits {
  /** Connections of the pool (its share of the server's budget). */
  readonly size: number;
  /** Connections one tenant may hold at once, so a busy tenant cannot starve the others. */
  readonly tenantCap: number;
  /** Units of work that may wait for a connection (per pool, and per tenant). */
  readonly maxWaiters: number;
  /** A connection is closed after this many units of work (bounds each backend's catalog cache). */
  readonly maxUses: number;
  /** A connection is closed once it has served for this long. */
  readonly maxAgeMs: number;
  /** How long a unit of work may wait for its tenant's cap and a connection now (read at each wait). */
  readonly waitMs: () => number;
  /** The error of a unit that waited too long, or found the queue full. */
  readonly busy: Busy;
  /**
   * Takes one more connection from the server's budget (waiting, bounded, for room), as the
   * pool's concurrency grows: the pool holds only the budget it has needed, up to `size`.
   */
  readonly grow: () => Promise<void>;
  /** Told how long each unit waited for its tenant's cap and a connection (0: at once), in ms. */
  readonly onWait?: (ms: number) => void;
  /**
   * PostgreSQL: lanes the pool is split into, each tenant with a home lane (see {@link PoolLanes});
   * the DataSource's own pool is one lane, of `ceil(size / lanes)` connections. 1: no lanes.
   */
  readonly lanes?: number;
}

/** The tenant a unit of work is bound to: its schema/role (PostgreSQL) or its database (MySQL). */
export interface TenantBinding {
  readonly tenant: string;
  readonly target: string;
  /**
   * PostgreSQL: the search path, when it is not `target` (the tenant's schema). Empty for a unit
   * bound to a store-wide role (see `DataSourceRouter.runSpanning`): every name it uses is
   * schema-qualified, and an unqualified one finds nothing.
   */
  readonly searchPath?: string;
}

/** Whether a unit of work runs in a transaction (always, on PostgreSQL), and at which isolation. */
export interface UnitMode {
  readonly transaction: boolean;
  readonly isolation?: IsolationLevel;
}

/** Counters of one shared pool, as exported to metrics. */
export interface SharedPoolStats {
  readonly server: string;
  readonly database: string;
  readonly size: number;
  /** Connections of the server's budget the pool has taken so far (it grows up to `size`). */
  readonly reserved: number;
  readonly tenantCap: number;
  readonly inUse: number;
  readonly waiting: number;
  readonly tenantsActive: number;
  readonly units: number;
  /** Connections closed because they reached `maxUses` or `maxAgeMs`. */
  readonly recycled: number;
  /** Connections closed because their state was unknown after an error. */
  readonly discarded: number;
  readonly busyRejections: number;
}

/** For a whole session (migrations commit one by one); the connection is closed after. */
const BIND_POSTGRES_SESSION = "SELECT set_config('role', $1, false), set_config('search_path', $2, false)";

/** The empty database every MySQL/MariaDB connection of a shared pool rests in between tenants. */
export const LANDING_DATABASE = 'polystore_landing';

/**
 * One pool of connections to one server (MySQL/MariaDB) or one shared database (PostgreSQL),
 * serving every tenant placed there. Each unit of work gets a connection bound to its tenant and
 * gives it back clean or not at all:
 * - PostgreSQL: a transaction whose first statement sets the tenant's role and search path
 *   (`set_config(..., true)`, gone at commit or rollback);
 * - MySQL/MariaDB: `USE <tenant database>` at checkout, `USE polystore_landing` (an empty
 *   database) before the connection goes back;
 * - an open transaction is rolled back before release (TypeORM's `release()` does not); a
 *   connection whose state is unknown (a connection-level error, a failed rollback or unbind) is
 *   destroyed; a connection that reached its use or age limit is closed.
 * Waits for a connection (and for the tenant's cap) are bounded and end in the caller's busy error,
 * so the driver's own pool never queues.
 */
export class SharedPool {
  private readonly slots: Gate;
  private readonly tenants = new Map<string, Gate>();
  private readonly lives = new WeakMap<object, { uses: number; bornAt: number }>();
  private readonly counters = { units: 0, recycled: 0, discarded: 0, busyRejections: 0 };

  /** Budget reservations under way (so concurrent units do not over-reserve). */
  private growing = 0;
  private readonly lanes: PoolLanes | undefined;

  constructor(
    readonly serverId: string,
    readonly dialect: Exclude<Dialect, 'mongodb'>,
    readonly database: string,
    readonly dataSource: DataSource,
    private readonly limits: SharedPoolLimits,
  ) {
    // No connection of the server's budget is taken until a unit needs it (see `room`).
    this.slots = new Gate(0, limits.maxWaiters);
    const lanes = limits.lanes ?? 1;
    this.lanes =
      dialect === 'postgres' && lanes > 1
        ? new PoolLanes(dataSource, lanes, Math.ceil(limits.size / lanes))
        : undefined;
  }

  /** Connections of the server's budget this pool holds. */
  get reserved(): number {
    return this.slots.capacity;
  }

  /** Runs `work` on a connection bound to `binding`, within the tenant's cap and the pool's size. */
  async run<T>(binding: TenantBinding, mode: UnitMode, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const lane: Lane = { used: this.lanes?.homeOf(binding.tenant) };
    return this.withSlot(binding.tenant, lane, () => this.unit(binding, mode, work, lane));
  }

  /**
   * Runs `work` with a connection bound to the tenant for its whole session (migrations, which
   * commit one by one). Afterwards the session is wiped whole (PostgreSQL `DISCARD ALL`: role,
   * search path, every setting, advisory locks, prepared statements) before the connection goes
   * back; if anything failed, or on MySQL/MariaDB, the connection is closed instead: no session
   * setting can outlive the work.
   */
  async session<T>(binding: TenantBinding, work: (runner: QueryRunner) => Promise<T>): Promise<T> {
    // The DataSource's own pool: the first lane.
    return this.withSlot(binding.tenant, { used: this.lanes ? 0 : undefined }, async () => {
      const runner = this.dataSource.createQueryRunner();
      let clean = false;
      try {
        if (this.dialect === 'postgres') await runner.query(BIND_POSTGRES_SESSION, [binding.target, binding.target]);
        else await runner.query(`USE ${quoteDatabaseName(this.dialect, binding.target)}`);
        const result = await work(runner);
        clean =
          this.dialect === 'postgres' &&
          !runner.isTransactionActive &&
          (await runner.query('DISCARD ALL').then(
            () => true,
            () => false,
          ));
        return result;
      } finally {
        if (clean) this.giveBack(runner, true);
        else this.discard(runner);
      }
    });
  }

  stats(): SharedPoolStats {
    return {
      server: this.serverId,
      database: this.database,
      size: this.limits.size,
      reserved: this.reserved,
      tenantCap: this.limits.tenantCap,
      inUse: this.slots.holders,
      waiting: this.slots.waiting + [...this.tenants.values()].reduce((n, gate) => n + gate.waiting, 0),
      tenantsActive: this.tenants.size,
      ...this.counters,
    };
  }

  /** Fails every waiting unit and closes the pool's connections. */
  async close(error: () => Error): Promise<void> {
    this.slots.rejectAll(error);
    for (const gate of this.tenants.values()) gate.rejectAll(error);
    await this.lanes?.close();
    if (this.dataSource.isInitialized) await this.dataSource.destroy().catch(() => undefined);
  }

  /** Runs `work` holding a connection slot; `lane`: the home lane asked for, then the lane used. */
  private async withSlot<T>(tenant: string, lane: Lane, work: () => Promise<T>): Promise<T> {
    const { waitMs, busy } = this.limits;
    const counted: Busy = (reason) => {
      this.counters.busyRejections++;
      return busy(reason);
    };
    let cap = this.tenants.get(tenant);
    if (!cap) {
      cap = new Gate(this.limits.tenantCap, this.limits.maxWaiters);
      this.tenants.set(tenant, cap);
    }
    const waitFrom = Date.now();
    try {
      await cap.enter(waitMs(), counted);
      try {
        await this.room();
        await this.slots.enter(waitMs(), counted, lane.used);
        this.limits.onWait?.(Date.now() - waitFrom);
        try {
          return await work();
        } finally {
          this.slots.leave(lane.used);
        }
      } finally {
        cap.leave();
      }
    } finally {
      if (cap.holders === 0 && cap.waiting === 0 && this.tenants.get(tenant) === cap) this.tenants.delete(tenant);
    }
  }

  /**
   * Takes one more connection from the server's budget when every reserved one is taken or
   * promised, up to the pool's size. When the budget has no room in time, a unit that can wait
   * for one of the pool's own connections does; a pool that holds none fails it (busy).
   */
  private async room(): Promise<void> {
    const wanted = this.slots.holders + this.slots.waiting + 1;
    if (wanted <= this.reserved + this.growing || this.reserved + this.growing >= this.limits.size) return;
    this.growing++;
    try {
      await this.limits.grow();
      this.slots.raise();
    } catch (error) {
      if (this.reserved === 0) throw error;
    } finally {
      this.growing--;
    }
  }

  private unit<T>(
    binding: TenantBinding,
    mode: UnitMode,
    work: (manager: EntityManager) => Promise<T>,
    lane: Lane,
  ): Promise<T> {
    this.counters.units++;
    let runner: QueryRunner;
    if (this.lanes) {
      const taken = this.lanes.runnerFor(binding.tenant, this.reserved);
      runner = taken.runner;
      lane.used = taken.lane;
    } else {
      runner = this.dataSource.createQueryRunner();
    }
    return runUnit(runner, this.dialect, mode, binding, work, (clean) => this.giveBack(runner, clean));
  }

  /** Back to the pool when clean and young enough; closed otherwise. */
  private giveBack(runner: QueryRunner, clean: boolean): void {
    const connection = connectionOf(runner);
    if (!connection) {
      void runner.release();
      return;
    }
    const now = Date.now();
    let life = this.lives.get(connection);
    if (!life) {
      life = { uses: 0, bornAt: now };
      this.lives.set(connection, life);
    }
    life.uses++;
    const worn = life.uses >= this.limits.maxUses || now - life.bornAt >= this.limits.maxAgeMs;
    if (clean && !worn) {
      void runner.release();
      return;
    }
    if (clean) this.counters.recycled++;
    else this.counters.discarded++;
    this.discard(runner);
  }

  private discard(runner: QueryRunner): void {
    discardConnection(runner, this.dialect);
  }
}

/**
 * One unit of work on `runner`, giving the connection back clean or not at all: bound to
 * `binding` when given (see {@link SharedPool}), in a transaction when `mode` asks (always for a
 * bound PostgreSQL unit), open transactions rolled back before `giveBack(clean)`; `clean` is false
 * when the connection's state is unknown (a connection-level error, a failed rollback or unbind).
 */
export async function runUnit<T>(
  runner: QueryRunner,
  dialect: Exclude<Dialect, 'mongodb'>,
  mode: UnitMode,
  binding: TenantBinding | undefined,
  work: (manager: EntityManager) => Promise<T>,
  giveBack: (clean: boolean) => void,
): Promise<T> {
  let clean = true;
  try {
    if (binding && dialect === 'postgres') {
      await beginBound(runner, binding, mode.isolation);
    } else {
      if (binding) await runner.query(`USE ${quoteDatabaseName(dialect, binding.target)}`);
      if (mode.transaction) await runner.startTransaction(mode.isolation);
    }
    const result = await work(runner.manager);
    while (runner.isTransactionActive) await runner.commitTransaction();
    return result;
  } catch (error) {
    clean = !isUnreachable(error) && (await rollBackAll(runner));
    throw error;
  } finally {
    if (clean && runner.isTransactionActive) clean = await rollBackAll(runner);
    if (clean && binding && dialect !== 'postgres') {
      clean = await runner.query(`USE ${quoteDatabaseName(dialect, LANDING_DATABASE)}`).then(
        () => true,
        () => false,
      );
    }
    giveBack(clean);
  }
}

/** A unit's lane: its home lane until it takes a connection, then the lane of that connection. */
interface Lane {
  used: number | undefined;
}

/** Names that are safe between single quotes: the catalog's validated schema names. */
const BINDABLE = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * PostgreSQL: opens the unit's transaction and binds it to the tenant in one round trip:
 * `BEGIN; SELECT set_config('role', '<t>', true), set_config('search_path', '<t>', true)` as one
 * simple-protocol message (two statements, no parameters possible there, so the name is checked
 * against the catalog's name rule first). The settings are local to the transaction: the commit
 * or rollback that ends the unit undoes them. The pool logs in as a `NOINHERIT` role that is only
 * a member of the tenant roles, so work that somehow ran without this binding could read nothing.
 * TypeORM is told a transaction is open, as its own `startTransaction()` would (no transaction
 * subscribers exist in this project to miss its events), before the message is sent: if the
 * binding fails after `BEGIN` ran, the unit's error path rolls the transaction back.
 */
async function beginBound(runner: QueryRunner, binding: TenantBinding, isolation?: IsolationLevel): Promise<void> {
  const searchPath = binding.searchPath ?? binding.target;
  if (!BINDABLE.test(binding.target) || (searchPath !== '' && !BINDABLE.test(searchPath)))
    throw new Error(`refusing to bind to ${JSON.stringify(binding.target)}`);
  const begin = isolation ? `BEGIN ISOLATION LEVEL ${isolation}` : 'BEGIN';
  Object.assign(runner, { isTransactionActive: true, transactionDepth: 1 });
  await runner.query(
    `${begin}; SELECT set_config('role', '${binding.target}', true), set_config('search_path', '${searchPath}', true)`,
  );
}

/** Closes the runner's connection instead of returning it to its pool. */
export function discardConnection(runner: QueryRunner, dialect: Exclude<Dialect, 'mongodb'>): void {
  const connection = connectionOf(runner);
  if (!connection) {
    void runner.release();
    return;
  }
  if (dialect === 'postgres') {
    // pg-pool destroys a client released with an error.
    void (runner as unknown as PostgresRunner).releasePostgresConnection(new Error('polystore: connection discarded'));
    return;
  }
  // mysql2: destroy() takes the connection out of its pool; release() must not follow.
  (connection as { destroy(): void }).destroy();
  (runner as { isReleased: boolean }).isReleased = true;
}

interface PostgresRunner {
  releasePostgresConnection(error?: Error): Promise<void>;
}

function connectionOf(runner: QueryRunner): object | undefined {
  return (runner as unknown as { databaseConnection?: object }).databaseConnection;
}

/** Rolls back every open level of the runner's transaction; false when the connection failed. */
async function rollBackAll(runner: QueryRunner): Promise<boolean> {
  try {
    for (let depth = 0; runner.isTransactionActive && depth < 64; depth++) await runner.rollbackTransaction();
    return !runner.isTransactionActive;
  } catch {
    return false;
  }
}
