import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { DataSourceRouter, RouterStats } from './data-source-router.js';

/** How {@link registerDataRouterMetrics} labels what it exports. */
export interface DataRouterMetricsOptions {
  /**
   * Also export `polystore_tenant_datasource_in_flight{tenant,database,...}`, one series per live
   * DataSource with a pool of its own (bounded by the connection budget, not by the tenant
   * count, but still a tenant label): off by default (`METRICS_TENANT_LABELS`).
   */
  readonly tenantLabels?: boolean;
}

type ServerOf = RouterStats['servers'][number];
type PoolOf = RouterStats['sharedPools'][number];
type Sample = readonly [labels: Record<string, string>, value: number];

/**
 * Exposes a router's state to Prometheus, by the project's conventions (docs/observability.md):
 * gauges and counters read from `router.stats()` at scrape time (a counter is the router's own
 * running total since start), histograms in seconds fed as things happen. Every label is bounded
 * by the servers and shared databases the store uses; no tenant label unless
 * {@link DataRouterMetricsOptions.tenantLabels}.
 */
export function registerDataRouterMetrics(
  router: DataSourceRouter,
  registry: Registry,
  options: DataRouterMetricsOptions = {},
): void {
  registerServerMetrics(router, registry);
  registerSharedPoolMetrics(router, registry);
  registerDataSourceMetrics(router, registry, options);
  registerClusterMetrics(router, registry);
}

/** A gauge set at scrape time to `read()`'s samples (series absent from them disappear). */
function snapshotGauge(registry: Registry, name: string, help: string, labelNames: string[], read: () => Sample[]) {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of read()) this.set(labels, value);
    },
  });
}

/**
 * A counter whose value is a running total the router keeps (since start): exported as is at
 * scrape time. A pool reopened starts again from 0, which Prometheus reads as a counter reset.
 */
function snapshotCounter(registry: Registry, name: string, help: string, labelNames: string[], read: () => Sample[]) {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of read()) this.inc(labels, value);
    },
  });
}

function registerServerMetrics(router: DataSourceRouter, registry: Registry): void {
  const labels = ['store', 'server'];
  const perServer = (pick: (s: ServerOf) => number) => (): Sample[] => {
    const stats = router.stats();
    return stats.servers.map((s) => [{ store: stats.store, server: s.server }, pick(s)]);
  };
  snapshotGauge(
    registry,
    'polystore_datasources_live',
    'Connections reserved on the server: shared pools plus own pools (opening, open or closing)',
    labels,
    perServer((s) => s.live),
  );
  snapshotGauge(
    registry,
    'polystore_datasources_capacity',
    'Connections the budget allows on the server',
    labels,
    perServer((s) => s.connectionBudget),
  );
  snapshotGauge(
    registry,
    'polystore_datasource_waiters',
    'Pools waiting for room in the server budget',
    labels,
    perServer((s) => s.waiting),
  );
  snapshotCounter(
    registry,
    'polystore_datasource_evictions_total',
    'Idle DataSources closed to make room in the server budget',
    labels,
    perServer((s) => s.evictions),
  );
  snapshotCounter(
    registry,
    'polystore_datasource_busy_rejections_total',
    'Requests refused with STORE_BUSY waiting for room in the server budget',
    labels,
    perServer((s) => s.busyRejections),
  );
  const waits = new Histogram({
    name: 'polystore_pool_wait_seconds',
    help: "Time a unit of work waited for a shared-pool connection on the server (its tenant's cap, the budget, a free connection)",
    labelNames: labels,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const inits = new Histogram({
    name: 'polystore_datasource_init_seconds',
    help: 'Time a DataSource with a pool of its own took to initialize',
    labelNames: labels,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const store = router.stats().store;
  router.observe({
    poolWait: (server, seconds) => waits.observe({ store, server }, seconds),
    initialized: (server, seconds) => inits.observe({ store, server }, seconds),
  });
}

function registerSharedPoolMetrics(router: DataSourceRouter, registry: Registry): void {
  const labels = ['store', 'server', 'database'];
  const perPool = (pick: (p: PoolOf) => number) => (): Sample[] => {
    const stats = router.stats();
    return stats.sharedPools.map((p) => [{ store: stats.store, server: p.server, database: p.database }, pick(p)]);
  };
  const gauge = (name: string, help: string, pick: (p: PoolOf) => number) =>
    snapshotGauge(registry, name, help, labels, perPool(pick));
  const counter = (name: string, help: string, pick: (p: PoolOf) => number) =>
    snapshotCounter(registry, name, help, labels, perPool(pick));
  gauge(
    'polystore_shared_pool_size',
    'Connections of a shared pool (one per server or shared database)',
    (p) => p.size,
  );
  gauge(
    'polystore_shared_pool_reserved',
    "Connections of the server's budget a shared pool has taken (it grows with its concurrency, up to its size)",
    (p) => p.reserved,
  );
  gauge('polystore_shared_pool_in_use', 'Shared-pool connections serving a unit of work now', (p) => p.inUse);
  gauge(
    'polystore_shared_pool_waiting',
    'Units of work waiting for a shared-pool connection or their tenant cap',
    (p) => p.waiting,
  );
  gauge('polystore_shared_pool_tenants_active', 'Tenants with work in a shared pool now', (p) => p.tenantsActive);
  counter('polystore_shared_pool_units_total', 'Units of work served by a shared pool', (p) => p.units);
  counter(
    'polystore_shared_pool_recycled_total',
    'Shared-pool connections closed at their use or age limit',
    (p) => p.recycled,
  );
  counter(
    'polystore_shared_pool_discarded_total',
    'Shared-pool connections destroyed after an error left their state unknown',
    (p) => p.discarded,
  );
  counter(
    'polystore_shared_pool_busy_rejections_total',
    'Units of work refused with STORE_BUSY by a shared pool',
    (p) => p.busyRejections,
  );
}

function registerDataSourceMetrics(
  router: DataSourceRouter,
  registry: Registry,
  options: DataRouterMetricsOptions,
): void {
  // Summed over the live DataSources of each server, state and circuit: a bounded label set.
  const byServer = (pick: (ds: RouterStats['dataSources'][number]) => number) => (): Sample[] => {
    const stats = router.stats();
    const sums = new Map<string, { labels: Record<string, string>; value: number }>();
    for (const ds of stats.dataSources) {
      const labels = { store: stats.store, server: ds.server, state: ds.state, circuit: ds.circuit };
      const key = JSON.stringify(labels);
      const sum = sums.get(key) ?? { labels, value: 0 };
      sum.value += pick(ds);
      sums.set(key, sum);
    }
    return [...sums.values()].map(({ labels, value }) => [labels, value]);
  };
  const labels = ['store', 'server', 'state', 'circuit'];
  snapshotGauge(
    registry,
    'polystore_datasources',
    'Live DataSources with a pool of their own, by state and circuit',
    labels,
    byServer(() => 1),
  );
  snapshotGauge(
    registry,
    'polystore_datasource_in_flight',
    'Work in flight on the live DataSources with a pool of their own',
    labels,
    byServer((ds) => ds.inFlight),
  );
  if (options.tenantLabels) {
    snapshotGauge(
      registry,
      'polystore_tenant_datasource_in_flight',
      'Work in flight per live DataSource with a pool of its own (METRICS_TENANT_LABELS)',
      ['store', 'server', 'tenant', 'database', 'state', 'circuit'],
      () => {
        const stats = router.stats();
        return stats.dataSources.map((ds) => [
          {
            store: stats.store,
            server: ds.server,
            tenant: ds.tenant,
            database: ds.database,
            state: ds.state,
            circuit: ds.circuit,
          },
          ds.inFlight,
        ]);
      },
    );
  }
  const totals = (name: string, help: string, pick: (s: RouterStats) => number) =>
    snapshotCounter(registry, name, help, ['store'], () => {
      const stats = router.stats();
      return [[{ store: stats.store }, pick(stats)]];
    });
  totals('polystore_datasources_opened_total', 'DataSources and shared pools opened', (s) => s.opened);
  totals('polystore_datasources_closed_total', 'DataSources closed', (s) => s.closed);
  totals(
    'polystore_datasource_init_failures_total',
    'DataSource and shared-pool initializations that failed',
    (s) => s.initFailures,
  );
}

/**
 * Multi-host servers (Galera): one series per node (bounded by the URL's host list), read at
 * scrape time from the router's last check of each node.
 */
function registerClusterMetrics(router: DataSourceRouter, registry: Registry): void {
  const nodeGauge = (
    name: string,
    help: string,
    pick: (node: RouterStats['clusters'][number]['nodes'][number]) => number | undefined,
  ) =>
    snapshotGauge(registry, name, help, ['store', 'server', 'node'], () => {
      const stats = router.stats();
      const samples: Sample[] = [];
      for (const cluster of stats.clusters) {
        for (const node of cluster.nodes) {
          const value = pick(node);
          if (value !== undefined)
            samples.push([{ store: stats.store, server: cluster.server, node: node.node }, value]);
        }
      }
      return samples;
    });
  nodeGauge(
    'polystore_cluster_node_synced',
    'Whether the node passed its last check (Galera: ready, Synced, in the primary component)',
    (node) => (node.condition === 'synced' ? 1 : 0),
  );
  nodeGauge('polystore_cluster_node_current', 'Whether new connections of this store go to the node', (node) =>
    node.current ? 1 : 0,
  );
  nodeGauge('polystore_cluster_size', 'wsrep_cluster_size as the node reports it', (node) => node.clusterSize);
  nodeGauge(
    'polystore_cluster_flow_control_paused_ratio',
    'wsrep_flow_control_paused: fraction of time replication was paused by flow control since the last check',
    (node) => node.flowControlPaused,
  );
  snapshotCounter(
    registry,
    'polystore_cluster_failovers_total',
    'Times new connections moved to another node of a cluster',
    ['store', 'server'],
    () => {
      const stats = router.stats();
      return stats.clusters.map((cluster) => [{ store: stats.store, server: cluster.server }, cluster.failovers]);
    },
  );
}
