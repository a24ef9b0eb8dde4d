import { AsyncLocalStorage } from 'node:async_hooks';
import { Logger } from '@nestjs/common';
import { RequestContextStore, type TenantSlug } from '#polystore/tenancy';
import {
  BrokenCircuitError,
  ConsecutiveBreaker,
  CircuitState,
  circuitBreaker,
  handleWhen,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { DataSource, type EntityManager, type QueryRunner } from 'typeorm';
import { ClusterMembership, type ClusterState } from './cluster.js';
import { DataRouterException } from './data-router.exception.js';
import {
  connectionOptions,
  detectMysqlFlavor,
  resolveStoreSchema,
  type StoreSchema,
  type StoreSchemaByDialect,
} from './internal/connection-options.js';
import { failureReason, isUnreachable } from './internal/failure.js';
import { budgetFromServer, usableConnections, type ServerShare } from './internal/server-budget.js';
import {
  LANDING_DATABASE,
  SharedPool,
  discardConnection,
  runUnit,
  type IsolationLevel,
  type SharedPoolStats,
  type TenantBinding,
  type UnitMode,
} from './internal/shared-pool.js';
import {
  migrateDatabase,
  migrateOnRunner,
  pendingMigrations,
  pendingOnRunner,
  type MigrationReport,
} from './migrations.util.js';
import { assertPlacement, parseServerUrl, type DataSourcePlacement, type ServerAddress } from './placement.js';
import { tlsQuery } from './server-tls.js';
import { DatabaseAdmin, MysqlRuntimeLogin, type RuntimeLogin } from './database-admin.js';

export type { IsolationLevel, SharedPoolStats } from './internal/shared-pool.js';

/** How a {@link DataSourceRouter} finds, opens and bounds tenant DataSources. */
export interface DataSourceRouterOptions {
  /** Name of the owning store, for logs and metrics (`secure`, `reliable`, ...). */
  readonly name: string;
  /** Where a tenant's database lives; the catalog answers, never the request. */
  readonly resolvePlacement: (tenant: TenantSlug) => Promise<DataSourcePlacement>;
  /**
   * Entities and migrations of every DataSource this router opens, or a function giving them for
   * the dialect of the placement's server (resolved each time a DataSource is built).
   */
  readonly schema: StoreSchema | StoreSchemaByDialect;
  /** Connections per DataSource of a placement with a pool of its own (`dedicated`, `database` on PostgreSQL). */
  readonly poolSize: number;
  /**
   * Maximum connections this router may open to one server (shared pools and own pools together).
   * With {@link serverShare}, the server's own limit lowers it.
   */
  readonly connectionBudget: number;
  /** Derives the budget from the server's `max_connections`: see {@link ServerShare}. */
  readonly serverShare?: ServerShare;
  /** Overrides the budget for particular servers (by `dialect://host:port`); no probe then. */
  readonly budgetFor?: (serverId: string) => number | undefined;
  /** Connections of the one pool serving every shared placement on a server (capped by the budget). Default 20. */
  readonly sharedPoolSize?: number;
  /** Connections one tenant may hold at once in a shared pool. Default: half the shared pool. */
  readonly tenantCap?: number;
  /**
   * PostgreSQL shared pools: lanes the pool is split into, each tenant with a home lane, so each
   * server backend caches the catalog entries of a share of the tenants (`SharedPool`'s
   * `PoolLanes`). Default: one per 5 connections of the pool; 1 = no lanes.
   */
  readonly sharedPoolLanes?: number;
  /** A shared-pool connection is closed after this many units of work. Default 10,000. */
  readonly connectionMaxUses?: number;
  /** A shared-pool connection is closed after serving this long. Default 30 minutes. */
  readonly connectionMaxAgeMs?: number;
  /**
   * The login of shared pools. PostgreSQL: a `NOINHERIT` role that is only a member of the tenant
   * roles (see `SchemaAdmin`). MySQL/MariaDB, when it has a `databasePrefix`: a user with rights on
   * those databases only, created (or updated) when the pool opens (see `MysqlRuntimeLogin`).
   * Without it the server URL's user logs in (tests, development).
   */
  readonly sharedLogin?: (address: ServerAddress) => RuntimeLogin;
  /** A DataSource unused for this long is closed. */
  readonly idleTtlMs: number;
  /** Tenants that may wait for a slot on one server; beyond it `STORE_BUSY` is immediate. */
  readonly maxWaiters: number;
  /** Longest wait for a slot (the request's deadline may cut it shorter). */
  readonly acquireTimeoutMs: number;
  /** Consecutive connection failures that open a placement's circuit, and how long it stays open. */
  readonly breaker: { readonly consecutiveFailures: number; readonly halfOpenAfterMs: number };
  /** `application_name` of connections (PostgreSQL), handy in `pg_stat_activity`. */
  readonly applicationName: string;
  readonly connectTimeoutMs?: number;
  /** Multi-host (cluster) servers: how often every node's state is checked (default 1 s). */
  readonly clusterCheckIntervalMs?: number;
}

type EntryState = 'opening' | 'open' | 'closing';

/** Leases kept until the end of one unit of work (see {@link DataSourceRouter.withLeaseScope}). */
interface LeaseScope {
  readonly held: Map<string, Promise<Entry>>;
  closed: boolean;
}

interface Entry {
  readonly key: string;
  readonly placement: DataSourcePlacement;
  readonly server: ServerSlots;
  readonly openedAt: number;
  ready: Promise<DataSource>;
  dataSource?: DataSource;
  state: EntryState;
  users: number;
  uses: number;
  lastUsedAt: number;
  initMs?: number;
  retired: boolean;
  /** Resolved when `users` drops to zero. */
  readonly idleWaiters: Array<() => void>;
  /** Settles when the DataSource is destroyed (set by eviction). */
  closed?: Promise<void>;
}

interface Waiter {
  readonly units: number;
  resolve(): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** One server's connection budget, counted in connections. */
interface ServerSlots {
  readonly id: string;
  /** Connections this router may hold on the server. */
  readonly capacity: number;
  /** What the server accepts from ordinary roles, when probed for the budget (`serverShare`). */
  readonly serverConnections: number | null;
  /** Connections reserved: by shared pools, and by own-pool DataSources opening, open or closing. */
  live: number;
  /** Connections being freed by DataSources closing. */
  closing: number;
  readonly waiters: Waiter[];
  evictions: number;
  busyRejections: number;
}

/** A tenant's schema in a store's shared PostgreSQL database (see {@link DataSourceRouter.sharedSchemaOf}). */
export interface SharedSchema {
  readonly tenant: TenantSlug;
  /** The shared pool serving it: tenants with the same pool can share one unit of work. */
  readonly pool: string;
  /** The tenant's schema (a catalog name, validated). */
  readonly schema: string;
}

/** Counters and state of one server, as exported to metrics. */
export interface ServerStats {
  readonly server: string;
  /** Connections this router may hold on the server. */
  readonly connectionBudget: number;
  /**
   * The connections the server accepts from ordinary roles (`max_connections`, less PostgreSQL's
   * `superuser_reserved_connections`), as probed for the budget; null when not probed (no
   * `serverShare`, a fixed budget, MongoDB).
   */
  readonly serverConnections: number | null;
  /** Connections reserved (shared pools' sizes plus own pools' sizes). */
  readonly live: number;
  readonly waiting: number;
  readonly evictions: number;
  readonly busyRejections: number;
}

/** State of one DataSource (one placement version). */
export interface DataSourceStats {
  readonly tenant: string;
  readonly server: string;
  readonly database: string;
  readonly version: number;
  readonly state: EntryState;
  readonly inFlight: number;
  readonly idleMs: number;
  readonly uses: number;
  readonly initMs: number | null;
  readonly circuit: 'closed' | 'open' | 'half-open' | 'isolated';
}

/**
 * What the router reports as it happens, for metrics that need every event rather than a
 * snapshot (histograms): see {@link DataSourceRouter.observe}. Server ids only, never a tenant.
 */
export interface RouterObserver {
  /** A unit of work got a shared-pool connection on `server` after `seconds` (0: at once). */
  readonly poolWait?: (server: string, seconds: number) => void;
  /** A DataSource with a pool of its own opened on `server` in `seconds`. */
  readonly initialized?: (server: string, seconds: number) => void;
}

/** A placement whose circuit breaker is not closed (see {@link DataSourceRouter.openCircuits}). */
export interface PlacementCircuit {
  readonly server: string;
  readonly database: string;
  readonly schema: string | null;
  readonly circuit: 'open' | 'half-open' | 'isolated';
}

/** Everything the router knows about itself. */
export interface RouterStats {
  readonly store: string;
  readonly opened: number;
  readonly closed: number;
  readonly initFailures: number;
  readonly servers: readonly ServerStats[];
  /** Multi-host servers (Galera, Group Replication): each node's last check and the failovers. */
  readonly clusters: readonly ClusterState[];
  readonly sharedPools: readonly SharedPoolStats[];
  readonly dataSources: readonly DataSourceStats[];
}

/**
 * `(store, tenant) -> a unit of work bound to the tenant's placement`, the only way to reach
 * tenant data.
 *
 * Guarantees (see the lib README for the full contract and its limits):
 * - shared placements (`schema` on PostgreSQL, `database` on MySQL/MariaDB) are served by one
 *   pool per server (per shared database on PostgreSQL), whatever the number of tenants; each
 *   unit of work is bound to its tenant failing closed and given back clean or not at all; a
 *   per-tenant cap keeps one tenant from taking the whole pool;
 * - a placement with a pool of its own (`dedicated`, `database` on PostgreSQL or MongoDB) gets a
 *   DataSource opened single-flight, keyed by placement version, closed when idle or evicted
 *   least recently used first when the server's budget is full; work in flight is never cut;
 * - bounded: per server, shared pools plus own pools never exceed the connection budget (derived
 *   from the server's `max_connections` when `serverShare` is set); waits are bounded and end in
 *   `STORE_BUSY`, never "too many clients";
 * - a circuit breaker per placement turns a dead database into fast `DATABASE_UNAVAILABLE`
 *   failures and recovers by itself (half-open probe);
 * - names are validated; nothing from a request reaches SQL or a connection.
 */
export class DataSourceRouter {
  private readonly logger: Logger;
  /** Parsed servers of the placements the catalog handed out (see {@link addressOf}). */
  private readonly addresses = new WeakMap<DataSourcePlacement, ServerAddress>();
  private readonly entries = new Map<string, Entry>();
  private readonly servers = new Map<string, Promise<ServerSlots>>();
  private readonly settledServers = new Map<string, ServerSlots>();
  private readonly sharedPools = new Map<string, Promise<SharedPool>>();
  private readonly openPools = new Map<string, SharedPool>();
  /** A placement of each shared PostgreSQL pool named by {@link sharedSchemaOf}, to open it by. */
  private readonly spanTargets = new Map<string, { placement: DataSourcePlacement; address: ServerAddress }>();
  private readonly breakers = new Map<string, CircuitBreakerPolicy>();
  /** What TypeORM asks a PostgreSQL server at every initialize, learnt once per server. */
  private readonly serverFacts = new Map<string, { version: string; searchSchema: string }>();
  /** MySQL or MariaDB, per `mysql://` server, probed once. */
  private readonly mysqlFlavors = new Map<string, Promise<'mysql' | 'mariadb'>>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly scopes = new AsyncLocalStorage<LeaseScope>();
  private counters = { opened: 0, closed: 0, initFailures: 0 };
  private closed = false;
  /** Multi-host servers this router connects to (their checks run while it is open). */
  private readonly clusters = new Set<ClusterMembership>();
  private readonly observers: RouterObserver[] = [];

  constructor(private readonly options: DataSourceRouterOptions) {
    this.logger = new Logger(`DataSourceRouter:${options.name}`);
    const sweepEvery = Math.max(250, Math.min(options.idleTtlMs / 2, 10_000));
    this.sweeper = setInterval(() => this.sweepIdle(), sweepEvery);
    this.sweeper.unref();
  }

  /**
   * Runs `work` for the current tenant (from the request context) on one connection of its
   * placement: in a transaction bound to the tenant on a shared PostgreSQL pool, bound to the
   * tenant's database on a shared MySQL pool, plain otherwise. Open transactions are rolled back
   * and the connection given back clean (or destroyed) when `work` settles.
   */
  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.unitOfWork({ transaction: false }, work);
  }

  /** Runs `work` in a transaction on the current tenant's placement. */
  transaction<T>(work: (manager: EntityManager) => Promise<T>, isolation?: IsolationLevel): Promise<T> {
    return this.unitOfWork({ transaction: true, ...(isolation ? { isolation } : {}) }, work);
  }

  /**
   * The tenant's schema and shared pool when its placement is a `schema` on PostgreSQL (null for
   * any other placement): tenants of one pool can be served by one unit of work of
   * {@link runSpanning}. The placement comes from the catalog, as for every unit of work.
   */
  async sharedSchemaOf(tenant: TenantSlug): Promise<SharedSchema | null> {
    if (this.closed) throw DataRouterException.closed();
    const placement = await this.options.resolvePlacement(tenant);
    const address = this.addressOf(placement);
    if (placement.kind !== 'schema' || address.dialect !== 'postgres') return null;
    const pool = sharedKey(placement, address);
    if (!this.spanTargets.has(pool)) this.spanTargets.set(pool, { placement, address });
    return { tenant, pool, schema: placement.schema! };
  }

  /**
   * Runs `work` in a transaction on the shared pool `pool` (from {@link sharedSchemaOf}) bound to
   * `role`, a store-wide `NOLOGIN` role the pool's login is a member of (see
   * `RuntimeLogin.batchRole`), instead of a tenant's: for work that spans the tenants of one server
   * in one transaction (the secure store's audit appends). The role has only the rights the store
   * granted it, table by table, in each tenant schema; the search path is empty, so every name
   * must be schema-qualified (validated names from {@link sharedSchemaOf} only). Connection-level
   * failures become `DATABASE_UNAVAILABLE`; the unit counts against the pool like a tenant's.
   */
  async runSpanning<T>(pool: string, role: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (this.closed) throw DataRouterException.closed();
    const target = this.spanTargets.get(pool);
    if (!target) throw new Error(`no shared pool ${pool} was named by sharedSchemaOf`);
    try {
      const shared = await this.sharedPoolFor(target.placement, target.address);
      return await shared.run({ tenant: `role:${role}`, target: role, searchPath: '' }, { transaction: true }, work);
    } catch (error) {
      if (isUnreachable(error) && !(error instanceof DataRouterException))
        throw DataRouterException.unavailable(target.placement.database, failureReason(error), error);
      throw error;
    }
  }

  /**
   * Runs a unit of work (a NATS message, a job step) whose `run()` calls on a placement with a
   * pool of its own all use the same DataSource lease, taken at the first `run()` and given back
   * when `work` settles: without it, a handler that reads, then writes, would give its DataSource
   * back between the two and, under pressure, see it evicted and reopened. Shared pools need no
   * lease (nothing is opened per tenant).
   */
  async withLeaseScope<T>(work: () => Promise<T>): Promise<T> {
    const scope: LeaseScope = { held: new Map(), closed: false };
    try {
      return await this.scopes.run(scope, work);
    } finally {
      scope.closed = true;
      for (const held of scope.held.values())
        held.then(
          (entry) => this.release(entry),
          () => undefined,
        );
      scope.held.clear();
    }
  }

  /**
   * Applies the store's pending migrations to the current tenant's placement, under a lock per
   * schema or database: on a shared PostgreSQL pool in a session bound to the tenant's role and
   * schema (the connection is closed afterwards); on a shared MySQL server through a short-lived
   * connection to the tenant's database; otherwise through the placement's own DataSource.
   */
  migrate(): Promise<MigrationReport> {
    return this.withMigrationTarget(
      (dataSource, runner, lockKey) => migrateOnRunner(dataSource, runner, lockKey),
      (dataSource) => migrateDatabase(dataSource),
    );
  }

  /** Names of the migrations {@link migrate} would apply to the current tenant (nothing changes). */
  pendingMigrations(): Promise<string[]> {
    return this.withMigrationTarget(
      (dataSource, runner) => pendingOnRunner(dataSource, runner),
      (dataSource) => pendingMigrations(dataSource),
    );
  }

  /**
   * Closes the tenant's own DataSources once their in-flight work is done (e.g. before its
   * database is dropped). New requests for the tenant open a fresh DataSource. Shared pools hold
   * nothing of a tenant between units of work.
   */
  async releaseTenant(tenant: string): Promise<void> {
    const mine = [...this.entries.values()].filter((e) => e.placement.tenant === tenant);
    const scope = this.scopes.getStore();
    const ownLeases: Array<Promise<void>> = [];
    for (const entry of mine) {
      entry.retired = true;
      this.entries.delete(entry.key);
      // A lease the caller's own unit of work holds (a handler that revoked the tenant's devices,
      // then drops its database) is given back now: waiting for it would wait for ourselves.
      const held = scope?.held.get(entry.key);
      if (held) {
        scope!.held.delete(entry.key);
        ownLeases.push(held.then((leased) => this.release(leased)).catch(() => undefined));
      }
    }
    await Promise.all(ownLeases);
    await Promise.all(mine.map((entry) => this.closeWhenIdle(entry)));
  }

  /** Marks the tenant's own DataSources as stale (placement changed): each closes when idle. */
  retire(tenant: string): void {
    for (const entry of this.entries.values()) {
      if (entry.placement.tenant !== tenant) continue;
      entry.retired = true;
      this.entries.delete(entry.key);
      if (entry.users === 0 && entry.state === 'open') this.evict(entry, false);
    }
  }

  /** Calls `observer` on every later pool wait and DataSource initialization (metrics). */
  observe(observer: RouterObserver): void {
    this.observers.push(observer);
  }

  /**
   * The placements whose circuit breaker is not closed, at most `limit` (the stores' health
   * answer: the console's placement health). Closed breakers of idle placements are forgotten, so
   * this walks only the working set.
   */
  openCircuits(limit: number): PlacementCircuit[] {
    const found: PlacementCircuit[] = [];
    for (const [key, breaker] of this.breakers) {
      if (found.length >= limit) break;
      const circuit = circuitName(breaker.state);
      if (circuit === 'closed') continue;
      // `<server id>/<database>/<schema>`: neither a database nor a schema name holds a `/`.
      const schemaAt = key.lastIndexOf('/');
      const databaseAt = key.lastIndexOf('/', schemaAt - 1);
      found.push({
        server: key.slice(0, databaseAt),
        database: key.slice(databaseAt + 1, schemaAt),
        schema: key.slice(schemaAt + 1) || null,
        circuit,
      });
    }
    return found;
  }

  /** A snapshot of the router's state. */
  stats(): RouterStats {
    const now = Date.now();
    const dataSources: DataSourceStats[] = [];
    for (const entry of this.entries.values()) {
      dataSources.push({
        tenant: entry.placement.tenant,
        server: entry.server.id,
        database: entry.placement.database,
        version: entry.placement.version,
        state: entry.state,
        inFlight: entry.users,
        idleMs: entry.users > 0 ? 0 : now - entry.lastUsedAt,
        uses: entry.uses,
        initMs: entry.initMs ?? null,
        circuit: circuitName(this.breakers.get(breakerKey(entry.server.id, entry.placement))?.state),
      });
    }
    return {
      store: this.options.name,
      ...this.counters,
      servers: [...this.settledServers.values()].map((s) => ({
        server: s.id,
        connectionBudget: s.capacity,
        serverConnections: s.serverConnections,
        live: s.live,
        waiting: s.waiters.length,
        evictions: s.evictions,
        busyRejections: s.busyRejections,
      })),
      sharedPools: [...this.openPools.values()].map((pool) => pool.stats()),
      dataSources,
      clusters: [...this.clusters].map((cluster) => cluster.state()),
    };
  }

  /** Stops taking work, waits for in-flight work (bounded), closes every DataSource and pool. */
  async close(timeoutMs = 10_000): Promise<number> {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const server of this.settledServers.values()) {
      for (const waiter of server.waiters.splice(0)) {
        clearTimeout(waiter.timer);
        waiter.reject(DataRouterException.closed());
      }
    }
    const all = [...this.entries.values()];
    this.entries.clear();
    const drained = Promise.all(all.map((entry) => this.closeWhenIdle(entry)));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([drained, timeout]);
    clearTimeout(timer);
    // Past the timeout, work still running is cut off: shutdown must end.
    await Promise.all(
      all.filter((e) => e.dataSource?.isInitialized).map((e) => e.dataSource!.destroy().catch(() => undefined)),
    );
    const pools = (await Promise.all([...this.sharedPools.values()].map((pool) => pool.catch(() => undefined)))).filter(
      (pool): pool is SharedPool => pool !== undefined,
    );
    await Promise.all(pools.map((pool) => pool.close(() => DataRouterException.closed())));
    await Promise.all([...this.clusters].map((cluster) => cluster.release()));
    this.clusters.clear();
    return all.filter((e) => e.dataSource).length + pools.length;
  }

  private unitOfWork<T>(mode: UnitMode, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.guarded((placement, address) =>
      isShared(placement, address)
        ? this.runShared(placement, address, mode, work)
        : this.runOwn(placement, address, mode, work),
    );
  }

  /**
   * Resolves the current tenant's placement (from the request context, through the catalog) and
   * runs `work` on it behind the placement's circuit breaker; connection-level failures become
   * `DATABASE_UNAVAILABLE`.
   */
  private async guarded<T>(work: (placement: DataSourcePlacement, address: ServerAddress) => Promise<T>): Promise<T> {
    const tenant = RequestContextStore.requireTenant();
    if (this.closed) throw DataRouterException.closed();
    const placement = await this.options.resolvePlacement(tenant);
    const address = this.addressOf(placement);
    const breaker = this.breakerFor(address, placement);
    try {
      return await breaker.execute(() => work(placement, address));
    } catch (error) {
      if (error instanceof BrokenCircuitError) {
        throw DataRouterException.unavailable(placement.database, 'circuit open', error);
      }
      if (isUnreachable(error) && !(error instanceof DataRouterException)) {
        // A cluster checks its nodes at once, so the caller's retry goes to a healthy one.
        if (address.nodes) ClusterMembership.of(address).reportFailure();
        throw DataRouterException.unavailable(placement.database, failureReason(error), error);
      }
      throw error;
    }
  }

  /**
   * The server of `placement`, parsed and checked once per placement object: the catalog hands out
   * the same object until the placement changes, so the hot path does not parse the URL (and its
   * TLS parameters) on every unit of work.
   */
  private addressOf(placement: DataSourcePlacement): ServerAddress {
    let address = this.addresses.get(placement);
    if (!address) {
      address = parseServerUrl(placement.serverUrl);
      assertPlacement(placement, address.dialect);
      this.addresses.set(placement, address);
    }
    return address;
  }

  private async runShared<T>(
    placement: DataSourcePlacement,
    address: ServerAddress,
    mode: UnitMode,
    work: (manager: EntityManager) => Promise<T>,
  ): Promise<T> {
    const pool = await this.sharedPoolFor(placement, address);
    return pool.run(bindingOf(placement), mode, work);
  }

  private async runOwn<T>(
    placement: DataSourcePlacement,
    address: ServerAddress,
    mode: UnitMode,
    work: (manager: EntityManager) => Promise<T>,
  ): Promise<T> {
    const entry = await this.leaseFor(placement, address);
    try {
      const dataSource = entry.dataSource!;
      if (address.dialect === 'mongodb')
        return await (mode.transaction ? dataSource.transaction(work) : work(dataSource.manager));
      const dialect = address.dialect;
      const runner = dataSource.createQueryRunner();
      return await runUnit(runner, dialect, mode, undefined, work, (clean) => {
        if (clean) void runner.release();
        else discardConnection(runner, dialect);
      });
    } finally {
      this.release(entry);
    }
  }

  private withMigrationTarget<T>(
    onShared: (dataSource: DataSource, runner: QueryRunner, lockKey: string) => Promise<T>,
    onOwn: (dataSource: DataSource) => Promise<T>,
  ): Promise<T> {
    return this.guarded(async (placement, address) => {
      if (!isShared(placement, address)) {
        const entry = await this.leaseFor(placement, address);
        try {
          return await onOwn(entry.dataSource!);
        } finally {
          this.release(entry);
        }
      }
      if (address.dialect !== 'postgres') {
        // TypeORM qualifies the migrations table with the DataSource's database (the landing
        // database here), so MySQL migrations run through a short-lived DataSource of their own.
        return this.withShortLivedDataSource(placement, address, onOwn);
      }
      const pool = await this.sharedPoolFor(placement, address);
      return pool.session(bindingOf(placement), (runner) =>
        onShared(pool.dataSource, runner, `polystore:migrate:${placement.database}:${placement.schema!}`),
      );
    });
  }

  private async withShortLivedDataSource<T>(
    placement: DataSourcePlacement,
    address: ServerAddress,
    work: (dataSource: DataSource) => Promise<T>,
  ): Promise<T> {
    const server = await this.serverFor(address);
    await this.reserveSlot(server, 1);
    const dataSource = new DataSource(
      connectionOptions(address, placement.database, resolveStoreSchema(this.options.schema, address.dialect), {
        poolSize: 1,
        applicationName: this.options.applicationName,
        connectTimeoutMs: this.options.connectTimeoutMs ?? 3_000,
        mysqlFlavor: address.dialect === 'mysql' ? await this.mysqlFlavor(address) : undefined,
      }),
    );
    try {
      await initializeOn(dataSource, address);
      return await work(dataSource);
    } finally {
      await dataSource.destroy().catch(() => undefined);
      this.freeUnits(server, 1);
    }
  }

  /** Time a unit of work may wait for a connection: the acquire timeout, cut by the request deadline. */
  private waitBudgetMs(): number {
    return Math.max(
      0,
      Math.min(this.options.acquireTimeoutMs, RequestContextStore.remainingMs(this.options.acquireTimeoutMs)),
    );
  }

  private sharedPoolFor(placement: DataSourcePlacement, address: ServerAddress): Promise<SharedPool> {
    const key = sharedKey(placement, address);
    let pool = this.sharedPools.get(key);
    if (!pool) {
      pool = this.openSharedPool(key, placement, address);
      this.sharedPools.set(key, pool);
      pool.then(
        (opened) => this.openPools.set(key, opened),
        () => {
          if (this.sharedPools.get(key) === pool) this.sharedPools.delete(key);
        },
      );
    }
    return pool;
  }

  private async openSharedPool(
    key: string,
    placement: DataSourcePlacement,
    address: ServerAddress,
  ): Promise<SharedPool> {
    const server = await this.serverFor(address);
    // The pool takes the server's budget a connection at a time as its concurrency grows (see
    // SharedPool), and never all of it: room is left for one placement with a pool of its own.
    const size = Math.max(1, Math.min(this.options.sharedPoolSize ?? 20, server.capacity - this.options.poolSize));
    const dialect = address.dialect as Exclude<ServerAddress['dialect'], 'mongodb'>;
    const lanes =
      dialect === 'postgres'
        ? Math.max(1, Math.min(size, this.options.sharedPoolLanes || Math.round(size / CONNECTIONS_PER_LANE)))
        : 1;
    const database = dialect === 'postgres' ? placement.database : LANDING_DATABASE;
    const runtime = this.options.sharedLogin?.(address);
    // MySQL/MariaDB pools log in as the runtime login only when it names its databases (a pattern grant).
    const login = dialect === 'postgres' || runtime?.databasePrefix ? runtime : undefined;
    const loginAddress: ServerAddress = login
      ? { ...address, username: login.username, ...(login.password === undefined ? {} : { password: login.password }) }
      : address;
    let dataSource: DataSource | undefined;
    try {
      if (dialect !== 'postgres') {
        await DatabaseAdmin.ensureDatabase(placement.serverUrl, LANDING_DATABASE);
        // As the server URL's user: a superuser's makes the login current; the provisioning login
        // may not manage accounts and finds it made by `polystore db-roles`.
        if (login) await MysqlRuntimeLogin.ensure(placement.serverUrl, login, LANDING_DATABASE);
      }
      dataSource = new DataSource(
        connectionOptions(loginAddress, database, resolveStoreSchema(this.options.schema, dialect), {
          // With lanes, this DataSource's own pool is the first lane (see SharedPool).
          poolSize: Math.ceil(size / lanes),
          applicationName: this.options.applicationName,
          connectTimeoutMs: this.options.connectTimeoutMs ?? 3_000,
          mysqlFlavor: dialect === 'mysql' ? await this.mysqlFlavor(address) : undefined,
        }),
      );
      await initializeOn(dataSource, address);
      // TypeORM fills the driver's default schema with the login's current schema at initialize
      // (`public`) and then qualifies unqualified names with it (the migrations table, `hasTable`).
      // A shared database's DataSource must stay schema-less: every name follows the search path
      // that the binding sets to the tenant's schema.
      if (dialect === 'postgres') Object.assign(dataSource.driver, { schema: undefined });
    } catch (error) {
      this.counters.initFailures++;
      await dataSource?.destroy().catch(() => undefined);
      // The login is named (never its password): a missing or stale runtime login is the operator's to fix.
      this.logger.warn(
        `cannot open the shared pool of ${database} on ${address.id} as ${loginAddress.username ?? 'the default user'}: ${failureReason(error)}`,
      );
      throw isUnreachable(error) ? DataRouterException.unavailable(database, failureReason(error), error) : error;
    }
    this.counters.opened++;
    const maxWaiters = Math.max(1, this.options.maxWaiters);
    return new SharedPool(address.id, dialect, database, dataSource, {
      size,
      lanes,
      tenantCap: Math.max(1, Math.min(size, this.options.tenantCap ?? Math.ceil(size / 2))),
      maxWaiters,
      maxUses: this.options.connectionMaxUses ?? 10_000,
      maxAgeMs: this.options.connectionMaxAgeMs ?? 30 * 60_000,
      waitMs: () => this.waitBudgetMs(),
      busy: (reason) => DataRouterException.busy(address.id, reason),
      grow: () => this.reserveSlot(server, 1),
      onWait: (ms) => {
        for (const observer of this.observers) observer.poolWait?.(address.id, ms / 1000);
      },
    });
  }

  /** A lease for one `run()`: inside an open lease scope, the scope's lease plus a use of its own. */
  private async leaseFor(placement: DataSourcePlacement, address: ServerAddress): Promise<Entry> {
    const scope = this.scopes.getStore();
    if (!scope || scope.closed) return this.acquire(placement, address);
    const key = entryKey(address, placement);
    let held = scope.held.get(key);
    if (!held) {
      held = this.acquire(placement, address);
      scope.held.set(key, held);
      held.catch(() => scope.held.delete(key));
    }
    const entry = await held;
    entry.users++;
    entry.uses++;
    entry.lastUsedAt = Date.now();
    return entry;
  }

  private async acquire(placement: DataSourcePlacement, address: ServerAddress): Promise<Entry> {
    const key = entryKey(address, placement);
    let entry = this.entries.get(key);
    if (!entry || entry.state === 'closing') entry = await this.open(key, placement, address);
    entry.users++;
    try {
      await entry.ready;
    } catch (error) {
      entry.users--;
      throw error;
    }
    entry.uses++;
    entry.lastUsedAt = Date.now();
    return entry;
  }

  private release(entry: Entry): void {
    entry.users--;
    entry.lastUsedAt = Date.now();
    if (entry.users > 0) return;
    for (const notify of entry.idleWaiters.splice(0)) notify();
    if (entry.retired || this.closed) {
      if (entry.state === 'open') this.evict(entry, false);
      return;
    }
    this.makeRoomForWaiters(entry.server);
  }

  private async open(key: string, placement: DataSourcePlacement, address: ServerAddress): Promise<Entry> {
    const server = await this.serverFor(address);
    // Another caller may have opened it while the server's budget was probed.
    const existing = this.entries.get(key);
    if (existing && existing.state !== 'closing') return existing;
    const now = Date.now();
    const entry: Entry = {
      key,
      placement,
      server,
      openedAt: now,
      ready: Promise.resolve(undefined as unknown as DataSource),
      state: 'opening',
      users: 0,
      uses: 0,
      lastUsedAt: now,
      retired: false,
      idleWaiters: [],
    };
    this.entries.set(key, entry);
    entry.ready = this.initialize(entry, address);
    // Joined callers observe the rejection; this keeps an unobserved one from crashing the process.
    entry.ready.catch(() => undefined);
    return entry;
  }

  private async initialize(entry: Entry, address: ServerAddress): Promise<DataSource> {
    const units = this.options.poolSize;
    try {
      await this.reserveSlot(entry.server, units);
    } catch (error) {
      if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
      throw error;
    }
    const started = Date.now();
    let dataSource: DataSource;
    try {
      dataSource = new DataSource(
        connectionOptions(address, entry.placement.database, resolveStoreSchema(this.options.schema, address.dialect), {
          poolSize: units,
          applicationName: this.options.applicationName,
          connectTimeoutMs: this.options.connectTimeoutMs ?? 3_000,
          mysqlFlavor: address.dialect === 'mysql' ? await this.mysqlFlavor(address) : undefined,
        }),
      );
    } catch (error) {
      if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
      entry.state = 'closing';
      this.freeUnits(entry.server, units);
      throw isUnreachable(error)
        ? DataRouterException.unavailable(entry.placement.database, failureReason(error), error)
        : error;
    }
    const facts = this.serverFacts.get(address.id);
    if (facts && address.dialect === 'postgres') Object.assign(dataSource.driver, facts);
    try {
      await initializeOn(dataSource, address);
      if (!facts && address.dialect === 'postgres') this.rememberServerFacts(address.id, dataSource);
    } catch (error) {
      this.counters.initFailures++;
      if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
      entry.state = 'closing';
      await dataSource.destroy().catch(() => undefined);
      this.freeUnits(entry.server, units);
      this.logger.warn(`cannot open ${entry.placement.database} on ${address.id}: ${failureReason(error)}`);
      throw isUnreachable(error)
        ? DataRouterException.unavailable(entry.placement.database, failureReason(error), error)
        : error;
    }
    this.counters.opened++;
    entry.dataSource = dataSource;
    entry.initMs = Date.now() - started;
    for (const observer of this.observers) observer.initialized?.(address.id, entry.initMs / 1000);
    entry.state = 'open';
    return dataSource;
  }

  /**
   * TypeORM's PostgreSQL driver asks the server for its version, database and schema at every
   * `initialize()` (three round trips on a brand-new connection, ~40% of a cold open here). They
   * are the same for every database of one server, so the router learns them once and presets
   * them; `initialize()` then opens no connection at all, and the pool connects on first use.
   * If TypeORM stops honouring the preset fields, initialization is only slower, never wrong.
   */
  private rememberServerFacts(serverId: string, dataSource: DataSource): void {
    const driver = dataSource.driver as { version?: unknown; searchSchema?: unknown };
    if (typeof driver.version === 'string' && typeof driver.searchSchema === 'string') {
      this.serverFacts.set(serverId, { version: driver.version, searchSchema: driver.searchSchema });
    }
  }

  private mysqlFlavor(address: ServerAddress): Promise<'mysql' | 'mariadb'> {
    let flavor = this.mysqlFlavors.get(address.id);
    if (!flavor) {
      flavor = detectMysqlFlavor(address, this.options.connectTimeoutMs ?? 3_000);
      this.mysqlFlavors.set(address.id, flavor);
      flavor.catch(() => this.mysqlFlavors.delete(address.id));
    }
    return flavor;
  }

  /** Reserves `units` connections on `server`, waiting (bounded) for evictions when full. */
  private async reserveSlot(server: ServerSlots, units: number): Promise<void> {
    if (server.live + units <= server.capacity && server.waiters.length === 0) {
      server.live += units;
      return;
    }
    if (server.waiters.length >= this.options.maxWaiters) {
      server.busyRejections++;
      throw DataRouterException.busy(server.id, 'queue full');
    }
    const waitMs = this.waitBudgetMs();
    const granted = new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        units,
        resolve,
        reject,
        timer: setTimeout(() => {
          const index = server.waiters.indexOf(waiter);
          if (index >= 0) server.waiters.splice(index, 1);
          server.busyRejections++;
          reject(DataRouterException.busy(server.id, 'wait timed out'));
          this.grantWaiters(server);
        }, waitMs),
      };
      server.waiters.push(waiter);
    });
    this.makeRoomForWaiters(server);
    await granted;
  }

  /** Gives `units` connections back to the server's budget, then to waiters that now fit. */
  private freeUnits(server: ServerSlots, units: number): void {
    server.live -= units;
    this.grantWaiters(server);
  }

  private grantWaiters(server: ServerSlots): void {
    while (server.waiters.length > 0 && server.live + server.waiters[0]!.units <= server.capacity) {
      const waiter = server.waiters.shift()!;
      clearTimeout(waiter.timer);
      server.live += waiter.units;
      waiter.resolve();
    }
  }

  /** Evicts idle DataSources (least recently used first) until every waiter has room coming. */
  private makeRoomForWaiters(server: ServerSlots): void {
    const wanted = server.waiters.reduce((sum, w) => sum + w.units, 0);
    while (server.live - server.closing + wanted > server.capacity) {
      const victim = this.leastRecentlyUsedIdle(server);
      if (!victim) return;
      this.evict(victim, true);
    }
  }

  private leastRecentlyUsedIdle(server: ServerSlots): Entry | undefined {
    let victim: Entry | undefined;
    for (const entry of this.entries.values()) {
      if (entry.server !== server || entry.state !== 'open' || entry.users > 0) continue;
      if (!victim || entry.lastUsedAt < victim.lastUsedAt) victim = entry;
    }
    return victim;
  }

  /** Closes an idle, open entry; its connections go to waiters (or back to the budget) once closed. */
  private evict(entry: Entry, underPressure: boolean): void {
    if (entry.state !== 'open' || entry.users > 0) return;
    entry.state = 'closing';
    if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
    const server = entry.server;
    const units = this.options.poolSize;
    server.closing += units;
    if (underPressure) server.evictions++;
    entry.closed = entry
      .dataSource!.destroy()
      .catch((error: unknown) =>
        this.logger.warn(`closing ${entry.placement.database} failed: ${failureReason(error)}`),
      )
      .finally(() => {
        this.counters.closed++;
        server.closing -= units;
        this.freeUnits(server, units);
      });
  }

  /** Resolves once `entry` is closed, after its in-flight work (it must already be out of the map). */
  private async closeWhenIdle(entry: Entry): Promise<void> {
    await entry.ready.catch(() => undefined);
    if (entry.users > 0) await new Promise<void>((resolve) => entry.idleWaiters.push(resolve));
    this.evict(entry, false);
    await entry.closed;
  }

  private sweepIdle(): void {
    const cutoff = Date.now() - this.options.idleTtlMs;
    const live = new Set<string>();
    for (const entry of this.entries.values()) {
      if (entry.state === 'open' && entry.users === 0 && entry.lastUsedAt < cutoff) this.evict(entry, false);
      else live.add(breakerKey(entry.server.id, entry.placement));
    }
    // Forget healthy breakers of placements not in use, so the map stays as small as the working set.
    for (const [key, breaker] of this.breakers) {
      if (breaker.state === CircuitState.Closed && !live.has(key)) this.breakers.delete(key);
    }
  }

  /** The server's budget, probed once (`serverShare`) and single-flight; a failed probe is retried next time. */
  private serverFor(address: ServerAddress): Promise<ServerSlots> {
    let server = this.servers.get(address.id);
    if (!server) {
      server = this.joinCluster(address)
        .then(() => this.budgetOf(address))
        .then(({ capacity, serverConnections }) => {
          const slots: ServerSlots = {
            id: address.id,
            capacity,
            serverConnections,
            live: 0,
            closing: 0,
            waiters: [],
            evictions: 0,
            busyRejections: 0,
          };
          this.settledServers.set(address.id, slots);
          return slots;
        });
      this.servers.set(address.id, server);
      server.catch(() => this.servers.delete(address.id));
    }
    return server;
  }

  /** A multi-host server: its nodes are checked before the first connection, then periodically. */
  private async joinCluster(address: ServerAddress): Promise<void> {
    if (!address.nodes) return;
    const cluster = ClusterMembership.of(address, {
      probeIntervalMs: this.options.clusterCheckIntervalMs ?? 1_000,
      connectTimeoutMs: this.options.connectTimeoutMs ?? 3_000,
      log: (message) => this.logger.warn(message),
    });
    if (!this.clusters.has(cluster)) {
      this.clusters.add(cluster);
      cluster.acquire();
    }
    await cluster.ensureChecked();
  }

  private async budgetOf(address: ServerAddress): Promise<{ capacity: number; serverConnections: number | null }> {
    const fixed = this.options.budgetFor?.(address.id);
    if (fixed !== undefined) return { capacity: Math.max(1, fixed), serverConnections: null };
    const share = this.options.serverShare;
    if (!share || address.dialect === 'mongodb')
      return { capacity: this.options.connectionBudget, serverConnections: null };
    try {
      const usable = await usableConnections(address, this.options.connectTimeoutMs ?? 3_000);
      const budget = budgetFromServer(this.options.connectionBudget, usable, share);
      this.logger.log(`${address.id}: ${usable} usable connections, budget ${budget}`);
      return { capacity: budget, serverConnections: usable };
    } catch (error) {
      if (error instanceof DataRouterException) throw error; // e.g. an unreadable sslrootcert
      throw DataRouterException.unavailable(address.id, failureReason(error), error);
    }
  }

  private breakerFor(address: ServerAddress, placement: DataSourcePlacement): CircuitBreakerPolicy {
    const key = breakerKey(address.id, placement);
    let breaker = this.breakers.get(key);
    if (!breaker) {
      const name = placement.schema ? `${placement.database}.${placement.schema}` : placement.database;
      breaker = circuitBreaker(
        // On a cluster, a lost node is the membership's business (it moves to another node): the
        // circuit opens only when no node is left.
        handleWhen(
          (error) => isUnreachable(error) && !(address.nodes && ClusterMembership.of(address).hasUsableNode()),
        ),
        {
          halfOpenAfter: this.options.breaker.halfOpenAfterMs,
          breaker: new ConsecutiveBreaker(this.options.breaker.consecutiveFailures),
        },
      );
      breaker.onBreak(() => this.logger.warn(`circuit opened for ${name} on ${address.id}`));
      breaker.onReset(() => this.logger.log(`circuit closed for ${name} on ${address.id}`));
      this.breakers.set(key, breaker);
    }
    return breaker;
  }
}

/** Opens `dataSource`; on a cluster, its connections then read their own writes (see ClusterMembership). */
async function initializeOn(dataSource: DataSource, address: ServerAddress): Promise<void> {
  await dataSource.initialize();
  if (address.nodes) await ClusterMembership.of(address).readYourWrites(dataSource);
}

/** Connections per lane of a PostgreSQL shared pool, by default (`sharedPoolLanes`). */
const CONNECTIONS_PER_LANE = 5;

/** Shared placements: a schema on PostgreSQL, a database on a MySQL/MariaDB server. */
function isShared(placement: DataSourcePlacement, address: ServerAddress): boolean {
  if (placement.kind === 'schema') return true;
  return placement.kind === 'database' && (address.dialect === 'mysql' || address.dialect === 'mariadb');
}

function bindingOf(placement: DataSourcePlacement): TenantBinding {
  return { tenant: placement.tenant, target: placement.kind === 'schema' ? placement.schema! : placement.database };
}

/**
 * A pool serves only placements with the same TLS settings: a placement asking for `verify-full`
 * never rides on a pool opened in plaintext by another placement of the same server.
 */
function poolServer(address: ServerAddress): string {
  return address.tls ? `${address.id}?${tlsQuery(address.tls)}` : address.id;
}

/** One shared pool per PostgreSQL database, one per MySQL/MariaDB server. */
function sharedKey(placement: DataSourcePlacement, address: ServerAddress): string {
  return address.dialect === 'postgres' ? `${poolServer(address)}/${placement.database}` : poolServer(address);
}

function entryKey(address: ServerAddress, placement: DataSourcePlacement): string {
  return `${poolServer(address)}/${placement.database}@${placement.version}`;
}

function breakerKey(serverId: string, placement: DataSourcePlacement): string {
  return `${serverId}/${placement.database}/${placement.schema ?? ''}`;
}

function circuitName(state: CircuitState | undefined): DataSourceStats['circuit'] {
  switch (state) {
    case CircuitState.Open:
      return 'open';
    case CircuitState.HalfOpen:
      return 'half-open';
    case CircuitState.Isolated:
      return 'isolated';
    case CircuitState.Closed:
    case undefined:
      return 'closed';
  }
}
