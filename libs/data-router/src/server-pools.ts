import type { RouterStats } from './data-source-router.js';

/** One server a router uses, its pools summed (the stores' health answer, the console's servers page). */
export interface ServerPoolSummary {
  /** `host:port` (a cluster: its nodes, comma-separated): the server id without its scheme; never credentials. */
  readonly server: string;
  readonly dialect: string;
  /** Databases of the shared pools open on the server, sorted. */
  readonly sharedDatabases: string[];
  /** DataSources with a pool of their own open on the server. */
  readonly ownPools: number;
  /** Shared pools' busy connections plus own pools' units in flight. */
  readonly inUse: number;
  /** Connections reserved on the server's budget and not in use. */
  readonly idle: number;
  /** Units waiting for a connection: for the server's budget and in its shared pools. */
  readonly waiting: number;
  readonly connectionBudget: number;
  readonly serverConnections: number | null;
  /** Units served: shared pools' units plus own pools' uses. */
  readonly units: number;
  /** `STORE_BUSY` refusals: the server's budget and its shared pools. */
  readonly busyRejections: number;
  readonly evictions: number;
}

/**
 * Per server, what {@link RouterStats} counts, summed over its shared pools and own pools; sorted
 * by server. Only the figures the router keeps (own pools that closed take their uses with them).
 */
export function serverPools(stats: RouterStats): ServerPoolSummary[] {
  return stats.servers
    .map((server) => {
      const shared = stats.sharedPools.filter((pool) => pool.server === server.server);
      const own = stats.dataSources.filter((ds) => ds.server === server.server);
      const inUse = sum(shared, (p) => p.inUse) + sum(own, (ds) => ds.inFlight);
      const scheme = server.server.indexOf('://');
      return {
        server: scheme >= 0 ? server.server.slice(scheme + 3) : server.server,
        dialect: scheme >= 0 ? server.server.slice(0, scheme) : '',
        sharedDatabases: shared.map((pool) => pool.database).sort(),
        ownPools: own.length,
        inUse,
        idle: Math.max(0, server.live - inUse),
        waiting: server.waiting + sum(shared, (p) => p.waiting),
        connectionBudget: server.connectionBudget,
        serverConnections: server.serverConnections,
        units: sum(shared, (p) => p.units) + sum(own, (ds) => ds.uses),
        busyRejections: server.busyRejections + sum(shared, (p) => p.busyRejections),
        evictions: server.evictions,
      };
    })
    .sort((a, b) => (a.server < b.server ? -1 : a.server > b.server ? 1 : 0));
}

function sum<T>(items: readonly T[], figure: (item: T) => number): number {
  return items.reduce((total, item) => total + figure(item), 0);
}
