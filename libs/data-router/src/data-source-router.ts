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
import { DataSource, type EntityManager } from 'typeorm';
import { DataRouterException } from './data-router.exception.js';
import {
  connectionOptions,
  detectMysqlFlavor,
  resolveStoreSchema,
  type StoreSchema,
  type StoreSchemaByDialect,
} from './internal/connection-options.js';
import { failureReason, isUnreachable } from './internal/failure.js';
import { assertDatabaseName, parseServerUrl, type DataSourcePlacement, type ServerAddress } from './placement.js';

/** Transaction isolation levels understood by every SQL dialect the router supports. */
export type IsolationLevel = 'READ UNCOMMITTED' | 'READ COMMITTED' | 'REPEATABLE READ' | 'SERIALIZABLE';

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
  /** Connections per DataSource (the driver pool's maximum). */
  readonly poolSize: number;
  /** Maximum connections this router may open to one server: `live DataSources x poolSize <= budget`. */
  readonly connectionBudget: number;
  /** Overrides the budget for particular servers (by `dialect://host:port`). */
  readonly budgetFor?: (serverId: string) => number | undefined;
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
  resolve(): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

interface ServerSlots {
  readonly id: string;
  readonly capacity: number;
  /** Entries holding a slot: opening, open or closing. */
  live: number;
  closing: number;
  readonly waiters: Waiter[];
  evictions: number;
  busyRejections: number;
}

/** Counters and state of one server, as exported to metrics. */
export interface ServerStats {
  readonly server: string;
  readonly capacity: number;
  readonly connectionBudget: number;
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

/** Everything the router knows about itself. */
export interface RouterStats {
  readonly store: string;
  readonly opened: number;
  readonly closed: number;
  readonly initFailures: number;
  readonly servers: readonly ServerStats[];
  readonly dataSources: readonly DataSourceStats[];
}

/**
 * `(store, tenant) -> initialized TypeORM DataSource`, the only way to reach a tenant database.
 *
 * Guarantees (see the lib README for the full contract and its limits):
 * - single-flight: concurrent first requests for a cold tenant share one `initialize()`;
 * - bounded: per server, `live DataSources x poolSize <= connectionBudget`; at the budget an
 *   idle DataSource (least recently used first) is closed to make room, otherwise the caller
 *   waits in a bounded queue and then fails with `STORE_BUSY`, never "too many clients";
 * - a DataSource with work in flight is never closed, by eviction, idle TTL or retirement;
 * - keyed by placement and version: a moved tenant gets a fresh DataSource;
 * - a circuit breaker per placement turns a dead database into fast `DATABASE_UNAVAILABLE`
 *   failures and recovers by itself (half-open probe);
 * - database names are validated; nothing from a request reaches a connection.
 */
export class DataSourceRouter {
  private readonly logger: Logger;
  private readonly entries = new Map<string, Entry>();
  private readonly servers = new Map<string, ServerSlots>();
  private readonly breakers = new Map<string, CircuitBreakerPolicy>();
  /** What TypeORM asks a PostgreSQL server at every initialize, learnt once per server. */
  private readonly serverFacts = new Map<string, { version: string; searchSchema: string }>();
  /** MySQL or MariaDB, per `mysql://` server, probed once. */
  private readonly mysqlFlavors = new Map<string, Promise<'mysql' | 'mariadb'>>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly scopes = new AsyncLocalStorage<LeaseScope>();
  private counters = { opened: 0, closed: 0, initFailures: 0 };
  private closed = false;

  constructor(private readonly options: DataSourceRouterOptions) {
    this.logger = new Logger(`DataSourceRouter:${options.name}`);
    const sweepEvery = Math.max(250, Math.min(options.idleTtlMs / 2, 10_000));
    this.sweeper = setInterval(() => this.sweepIdle(), sweepEvery);
    this.sweeper.unref();
  }

  /**
   * Runs `work` with the current tenant's DataSource (tenant from the request context).
   * The DataSource stays open until `work` settles.
   */
  async run<T>(work: (dataSource: DataSource) => Promise<T>): Promise<T> {
    const tenant = RequestContextStore.requireTenant();
    if (this.closed) throw DataRouterException.closed();
    const placement = await this.options.resolvePlacement(tenant);
    assertDatabaseName(placement.database);
    const address = parseServerUrl(placement.serverUrl);
    const breaker = this.breakerFor(address, placement);
    try {
      return await breaker.execute(async () => {
        const entry = await this.leaseFor(placement, address);
        try {
          return await work(entry.dataSource!);
        } finally {
          this.release(entry);
        }
      });
    } catch (error) {
      if (error instanceof BrokenCircuitError) {
        throw DataRouterException.unavailable(placement.database, 'circuit open', error);
      }
      if (isUnreachable(error) && !(error instanceof DataRouterException)) {
        throw DataRouterException.unavailable(placement.database, failureReason(error), error);
      }
      throw error;
    }
  }

  /**
   * Runs a unit of work (a NATS message, a job step) whose `run()` calls all use the same
   * DataSource lease, taken at the first `run()` and given back when `work` settles. Without it,
   * a handler that reads, then writes, would give its DataSource back between the two and, under
   * pressure, see it evicted and reopened: the lease scope makes one request cost at most one
   * open. Each `run()` still counts as in-flight work of its own.
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

  /** Runs `work` in a transaction on the current tenant's database. */
  transaction<T>(work: (manager: EntityManager) => Promise<T>, isolation?: IsolationLevel): Promise<T> {
    return this.run((ds) => (isolation ? ds.transaction(isolation, work) : ds.transaction(work)));
  }

  /**
   * Closes the tenant's DataSources once their in-flight work is done (e.g. before its database
   * is dropped). New requests for the tenant open a fresh DataSource.
   */
  async releaseTenant(tenant: string): Promise<void> {
    const mine = [...this.entries.values()].filter((e) => e.placement.tenant === tenant);
    for (const entry of mine) {
      entry.retired = true;
      this.entries.delete(entry.key);
    }
    await Promise.all(mine.map((entry) => this.closeWhenIdle(entry)));
  }

  /** Marks the tenant's DataSources as stale (placement changed): each closes when idle. */
  retire(tenant: string): void {
    for (const entry of this.entries.values()) {
      if (entry.placement.tenant !== tenant) continue;
      entry.retired = true;
      this.entries.delete(entry.key);
      if (entry.users === 0 && entry.state === 'open') this.evict(entry, false);
    }
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
        circuit: circuitName(this.breakers.get(breakerKey(entry.server.id, entry.placement.database))?.state),
      });
    }
    return {
      store: this.options.name,
      ...this.counters,
      servers: [...this.servers.values()].map((s) => ({
        server: s.id,
        capacity: s.capacity,
        connectionBudget: s.capacity * this.options.poolSize,
        live: s.live,
        waiting: s.waiters.length,
        evictions: s.evictions,
        busyRejections: s.busyRejections,
      })),
      dataSources,
    };
  }

  /** Stops taking work, waits for in-flight work (bounded), closes every DataSource. */
  async close(timeoutMs = 10_000): Promise<number> {
    this.closed = true;
    clearInterval(this.sweeper);
    for (const server of this.servers.values()) {
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
    return all.filter((e) => e.dataSource).length;
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
    if (!entry || entry.state === 'closing') entry = this.open(key, placement, address);
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

  private open(key: string, placement: DataSourcePlacement, address: ServerAddress): Entry {
    const server = this.serverFor(address.id);
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
    try {
      await this.reserveSlot(entry.server);
    } catch (error) {
      if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
      throw error;
    }
    const started = Date.now();
    let dataSource: DataSource;
    try {
      dataSource = new DataSource(
        connectionOptions(address, entry.placement.database, resolveStoreSchema(this.options.schema, address.dialect), {
          poolSize: this.options.poolSize,
          applicationName: this.options.applicationName,
          connectTimeoutMs: this.options.connectTimeoutMs ?? 3_000,
          mysqlFlavor: address.dialect === 'mysql' ? await this.mysqlFlavor(address) : undefined,
        }),
      );
    } catch (error) {
      if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
      entry.state = 'closing';
      this.freeSlot(entry.server);
      throw isUnreachable(error)
        ? DataRouterException.unavailable(entry.placement.database, failureReason(error), error)
        : error;
    }
    const facts = this.serverFacts.get(address.id);
    if (facts && address.dialect === 'postgres') Object.assign(dataSource.driver, facts);
    try {
      await dataSource.initialize();
      if (!facts && address.dialect === 'postgres') this.rememberServerFacts(address.id, dataSource);
    } catch (error) {
      this.counters.initFailures++;
      if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
      entry.state = 'closing';
      await dataSource.destroy().catch(() => undefined);
      this.freeSlot(entry.server);
      this.logger.warn(`cannot open ${entry.placement.database} on ${address.id}: ${failureReason(error)}`);
      throw isUnreachable(error)
        ? DataRouterException.unavailable(entry.placement.database, failureReason(error), error)
        : error;
    }
    this.counters.opened++;
    entry.dataSource = dataSource;
    entry.initMs = Date.now() - started;
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

  /** Takes one DataSource slot on `server`, waiting (bounded) for an eviction when full. */
  private async reserveSlot(server: ServerSlots): Promise<void> {
    if (server.live < server.capacity && server.waiters.length === 0) {
      server.live++;
      return;
    }
    if (server.waiters.length >= this.options.maxWaiters) {
      server.busyRejections++;
      throw DataRouterException.busy(server.id, 'queue full');
    }
    const waitMs = Math.max(
      0,
      Math.min(this.options.acquireTimeoutMs, RequestContextStore.remainingMs(this.options.acquireTimeoutMs)),
    );
    const granted = new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          const index = server.waiters.indexOf(waiter);
          if (index >= 0) server.waiters.splice(index, 1);
          server.busyRejections++;
          reject(DataRouterException.busy(server.id, 'wait timed out'));
        }, waitMs),
      };
      server.waiters.push(waiter);
    });
    this.makeRoomForWaiters(server);
    await granted;
  }

  /** Gives a freed slot to the oldest waiter, or returns it to the pool. */
  private freeSlot(server: ServerSlots): void {
    const waiter = server.waiters.shift();
    if (waiter) {
      clearTimeout(waiter.timer);
      waiter.resolve();
    } else {
      server.live--;
    }
  }

  /** Evicts idle DataSources (least recently used first) until every waiter has a slot coming. */
  private makeRoomForWaiters(server: ServerSlots): void {
    while (server.closing < server.waiters.length) {
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

  /** Closes an idle, open entry; its slot goes to a waiter (or back to the pool) once closed. */
  private evict(entry: Entry, underPressure: boolean): void {
    if (entry.state !== 'open' || entry.users > 0) return;
    entry.state = 'closing';
    if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
    const server = entry.server;
    server.closing++;
    if (underPressure) server.evictions++;
    entry.closed = entry
      .dataSource!.destroy()
      .catch((error: unknown) =>
        this.logger.warn(`closing ${entry.placement.database} failed: ${failureReason(error)}`),
      )
      .finally(() => {
        this.counters.closed++;
        server.closing--;
        this.freeSlot(server);
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
      else live.add(breakerKey(entry.server.id, entry.placement.database));
    }
    // Forget healthy breakers of databases no longer open, so the map stays as small as the working set.
    for (const [key, breaker] of this.breakers) {
      if (breaker.state === CircuitState.Closed && !live.has(key)) this.breakers.delete(key);
    }
  }

  private serverFor(serverId: string): ServerSlots {
    let server = this.servers.get(serverId);
    if (!server) {
      const budget = this.options.budgetFor?.(serverId) ?? this.options.connectionBudget;
      server = {
        id: serverId,
        capacity: Math.max(1, Math.floor(budget / this.options.poolSize)),
        live: 0,
        closing: 0,
        waiters: [],
        evictions: 0,
        busyRejections: 0,
      };
      this.servers.set(serverId, server);
    }
    return server;
  }

  private breakerFor(address: ServerAddress, placement: DataSourcePlacement): CircuitBreakerPolicy {
    const key = breakerKey(address.id, placement.database);
    let breaker = this.breakers.get(key);
    if (!breaker) {
      breaker = circuitBreaker(
        handleWhen((error) => isUnreachable(error)),
        {
          halfOpenAfter: this.options.breaker.halfOpenAfterMs,
          breaker: new ConsecutiveBreaker(this.options.breaker.consecutiveFailures),
        },
      );
      breaker.onBreak(() => this.logger.warn(`circuit opened for ${placement.database} on ${address.id}`));
      breaker.onReset(() => this.logger.log(`circuit closed for ${placement.database} on ${address.id}`));
      this.breakers.set(key, breaker);
    }
    return breaker;
  }
}

function entryKey(address: ServerAddress, placement: DataSourcePlacement): string {
  return `${address.id}/${placement.database}@${placement.version}`;
}

function breakerKey(serverId: string, database: string): string {
  return `${serverId}/${database}`;
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
