import type { DataSource, QueryRunner } from 'typeorm';

/** What a lane needs of a `pg` pool (pg-pool's own counters and checkout). */
interface PgPool {
  readonly options: Record<string, unknown>;
  readonly totalCount: number;
  readonly idleCount: number;
  connect(callback: (error: Error | undefined, client: PgClient, release: (error?: Error) => void) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  end(): Promise<void>;
}

interface PgClient {
  on(event: 'error', listener: (error: Error) => void): void;
  removeListener(event: 'error', listener: (error: Error) => void): void;
}

/** The fields of TypeORM 1.1.1's `PostgresQueryRunner.connect()` that a lane fills in instead. */
interface PostgresRunnerInternals {
  databaseConnection?: PgClient;
  databaseConnectionPromise?: Promise<PgClient>;
  releaseCallback?: (error?: Error) => void;
  releasePostgresConnection(error?: Error): Promise<void>;
  readonly driver: { readonly connectedQueryRunners: unknown[] };
}

/**
 * A shared PostgreSQL pool split into lanes, each a `pg` pool of its own, and each tenant given a
 * home lane (a hash of its name): a tenant's units of work run on the connections of its lane
 * while the lane has one free, so each server backend sees a share of the tenants instead of all
 * of them. A backend builds its catalog caches (relation, attribute and index entries) for each
 * table it touches, per schema: with thousands of tenants spread over every connection, nearly
 * every unit met a connection that had not seen its tenant's tables yet and paid for those
 * lookups again. A unit whose lane has nothing free borrows one of another lane (an idle
 * connection first), so a busy tenant is never held back by its lane alone. When every connection
 * is taken, a connection given back goes to a waiting unit of its own lane first (`Gate.leave`
 * with the lane as affinity), so the lanes hold under saturation too.
 *
 * The lanes together never hold more connections than the pool has reserved from the server's
 * budget: a lane opens a connection only while the lanes' total is below it (otherwise an idle
 * connection of another lane is taken; one exists, since the units holding connections are fewer
 * than the reservation).
 *
 * Lane 0 is the DataSource's own `pg` pool; the others copy its settings. A unit's QueryRunner is
 * handed its lane's connection the way TypeORM's own `connect()` would take one from the
 * DataSource's pool (same listeners, same release).
 */
export class PoolLanes {
  private readonly pools: PgPool[];
  private closed = false;

  constructor(
    private readonly dataSource: DataSource,
    lanes: number,
    private readonly laneSize: number,
  ) {
    const master = (dataSource.driver as unknown as { master: PgPool }).master;
    this.pools = [master];
    const Pool = master.constructor as new (options: Record<string, unknown>) => PgPool;
    for (let i = 1; i < lanes; i++) {
      const pool = new Pool({ ...master.options, max: laneSize });
      // An idle client's error is reported by its pool: without a listener it would end the process.
      pool.on('error', () => undefined);
      this.pools.push(pool);
    }
  }

  get count(): number {
    return this.pools.length;
  }

  /** Connections the lanes hold (in use, idle or opening). */
  get open(): number {
    return this.pools.reduce((n, pool) => n + pool.totalCount, 0);
  }

  /**
   * A QueryRunner of the DataSource whose connection comes from `tenant`'s lane (or the lane that
   * has one for it), taken now: the caller must use it or release it. `reserved`: the connections
   * the pool may hold.
   */
  runnerFor(tenant: string, reserved: number): { runner: QueryRunner; lane: number } {
    const runner = this.dataSource.createQueryRunner();
    if (this.pools.length === 1 || this.closed) return { runner, lane: 0 };
    const lane = this.laneOf(tenant, reserved);
    const pool = this.pools[lane]!;
    if (lane === 0) return { runner, lane };
    const internals = runner as unknown as PostgresRunnerInternals;
    internals.databaseConnectionPromise = new Promise<PgClient>((resolve, reject) => {
      pool.connect((error, client, release) => {
        if (error) {
          reject(error);
          return;
        }
        internals.driver.connectedQueryRunners.push(runner);
        internals.databaseConnection = client;
        const onError = (err: Error) => void internals.releasePostgresConnection(err);
        internals.releaseCallback = (err) => {
          client.removeListener('error', onError);
          release(err);
        };
        client.on('error', onError);
        resolve(client);
      });
    });
    // An unused runner's checkout must not become an unhandled rejection; its user sees the error.
    internals.databaseConnectionPromise.catch(() => undefined);
    return { runner, lane };
  }

  /** The tenant's home lane. */
  homeOf(tenant: string): number {
    return laneHash(tenant) % this.pools.length;
  }

  /** Closes the lanes' own pools (lane 0 closes with its DataSource). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.pools.slice(1).map((pool) => pool.end().catch(() => undefined)));
  }

  private laneOf(tenant: string, reserved: number): number {
    const home = this.homeOf(tenant);
    const mayOpen = this.open < reserved;
    const usable = (pool: PgPool) => pool.idleCount > 0 || (mayOpen && pool.totalCount < this.laneSize);
    if (usable(this.pools[home]!)) return home;
    for (let step = 1; step < this.pools.length; step++) {
      const lane = (home + step) % this.pools.length;
      if (this.pools[lane]!.idleCount > 0) return lane;
    }
    for (let step = 1; step < this.pools.length; step++) {
      const lane = (home + step) % this.pools.length;
      if (usable(this.pools[lane]!)) return lane;
    }
    // Every lane full (units above the reservation cannot get here): the home lane's queue.
    return home;
  }
}

/** FNV-1a of the tenant's name: a stable home lane, spread evenly. */
function laneHash(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
