import { Counter, Gauge, type Registry } from 'prom-client';
import type { DataSourceRouter, RouterStats } from './data-source-router.js';

/**
 * Exposes a router's state as Prometheus gauges, read at scrape time. Per-server series are
 * always present; per-DataSource series exist only for live DataSources, so their number is
 * bounded by the connection budget, not by the number of tenants.
 */
export function registerDataRouterMetrics(router: DataSourceRouter, registry: Registry): void {
  const labels = ['store', 'server'] as const;
  const serverGauge = (
    name: string,
    help: string,
    pick: (s: ReturnType<DataSourceRouter['stats']>['servers'][number]) => number,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: labels,
      registers: [registry],
      collect() {
        const stats = router.stats();
        this.reset();
        for (const server of stats.servers) this.set({ store: stats.store, server: server.server }, pick(server));
      },
    });
  serverGauge(
    'polystore_datasources_live',
    'Connections reserved on the server: shared pools plus own pools (opening, open or closing)',
    (s) => s.live,
  );
  serverGauge(
    'polystore_datasources_capacity',
    'Connections the budget allows on the server',
    (s) => s.connectionBudget,
  );
  serverGauge('polystore_datasource_waiters', 'Pools waiting for room in the server budget', (s) => s.waiting);
  serverGauge(
    'polystore_datasource_evictions',
    'Idle DataSources closed to make room (since start)',
    (s) => s.evictions,
  );
  serverGauge(
    'polystore_datasource_busy_rejections',
    'Requests refused with STORE_BUSY (since start)',
    (s) => s.busyRejections,
  );

  const poolGauge = (
    name: string,
    help: string,
    pick: (p: ReturnType<DataSourceRouter['stats']>['sharedPools'][number]) => number,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ['store', 'server', 'database'],
      registers: [registry],
      collect() {
        const stats = router.stats();
        this.reset();
        for (const pool of stats.sharedPools)
          this.set({ store: stats.store, server: pool.server, database: pool.database }, pick(pool));
      },
    });
  poolGauge(
    'polystore_shared_pool_size',
    'Connections of a shared pool (one per server or shared database)',
    (p) => p.size,
  );
  poolGauge(
    'polystore_shared_pool_reserved',
    "Connections of the server's budget a shared pool has taken (it grows with its concurrency, up to its size)",
    (p) => p.reserved,
  );
  poolGauge('polystore_shared_pool_in_use', 'Shared-pool connections serving a unit of work now', (p) => p.inUse);
  poolGauge(
    'polystore_shared_pool_waiting',
    'Units of work waiting for a shared-pool connection or their tenant cap',
    (p) => p.waiting,
  );
  poolGauge('polystore_shared_pool_tenants_active', 'Tenants with work in a shared pool now', (p) => p.tenantsActive);
  poolGauge('polystore_shared_pool_units', 'Units of work served by a shared pool (since start)', (p) => p.units);
  poolGauge(
    'polystore_shared_pool_recycled',
    'Connections closed at their use or age limit (since start)',
    (p) => p.recycled,
  );
  poolGauge(
    'polystore_shared_pool_discarded',
    'Connections destroyed after an error left their state unknown (since start)',
    (p) => p.discarded,
  );
  poolGauge(
    'polystore_shared_pool_busy_rejections',
    'Units refused with STORE_BUSY by a shared pool (since start)',
    (p) => p.busyRejections,
  );

  new Gauge({
    name: 'polystore_datasource_in_flight',
    help: 'Work in flight per live DataSource',
    labelNames: ['store', 'tenant', 'database', 'state', 'circuit'],
    registers: [registry],
    collect() {
      const stats = router.stats();
      this.reset();
      for (const ds of stats.dataSources) {
        this.set(
          { store: stats.store, tenant: ds.tenant, database: ds.database, state: ds.state, circuit: ds.circuit },
          ds.inFlight,
        );
      }
    },
  });
  new Gauge({
    name: 'polystore_datasource_init_ms',
    help: 'Time the live DataSource took to initialize',
    labelNames: ['store', 'tenant', 'database'],
    registers: [registry],
    collect() {
      const stats = router.stats();
      this.reset();
      for (const ds of stats.dataSources) {
        if (ds.initMs !== null) this.set({ store: stats.store, tenant: ds.tenant, database: ds.database }, ds.initMs);
      }
    },
  });
  const totals = (name: string, help: string, pick: (s: ReturnType<DataSourceRouter['stats']>) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['store'],
      registers: [registry],
      collect() {
        const stats = router.stats();
        this.set({ store: stats.store }, pick(stats));
      },
    });
  registerClusterMetrics(router, registry);
  totals('polystore_datasources_opened', 'DataSources opened since start', (s) => s.opened);
  totals('polystore_datasources_closed', 'DataSources closed since start', (s) => s.closed);
  totals(
    'polystore_datasource_init_failures',
    'DataSource initializations that failed since start',
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
    new Gauge({
      name,
      help,
      labelNames: ['store', 'server', 'node'],
      registers: [registry],
      collect() {
        const stats = router.stats();
        this.reset();
        for (const cluster of stats.clusters) {
          for (const node of cluster.nodes) {
            const value = pick(node);
            if (value !== undefined) this.set({ store: stats.store, server: cluster.server, node: node.node }, value);
          }
        }
      },
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
  const seen = new Map<string, number>();
  new Counter({
    name: 'polystore_cluster_failovers_total',
    help: 'Times new connections moved to another node of a cluster',
    labelNames: ['store', 'server'],
    registers: [registry],
    collect() {
      const stats = router.stats();
      for (const cluster of stats.clusters) {
        const before = seen.get(cluster.server) ?? 0;
        if (cluster.failovers > before)
          this.inc({ store: stats.store, server: cluster.server }, cluster.failovers - before);
        else this.inc({ store: stats.store, server: cluster.server }, 0);
        seen.set(cluster.server, Math.max(before, cluster.failovers));
      }
    },
  });
}
