// Reading the apps' Prometheus endpoints before and after a measured window, to explain the
// numbers: mean time in the gateway vs. in the NATS round trip, and the data router's activity
// (units of work served by the shared pool, connections recycled or discarded, DataSources
// opened and evicted for placements with a pool of their own, requests refused with STORE_BUSY).
import { request } from './http.mjs';

/** `GET /metrics` as text (null when it is not reachable). */
export async function scrape(port, host = '127.0.0.1') {
  try {
    const response = await request({ port, host, path: '/metrics', timeoutMs: 5_000 });
    return response.status === 200 ? response.text : null;
  } catch {
    return null;
  }
}

/** Sum of every sample of `name` whose labels contain all of `labels` (substring match). */
export function metricSum(text, name, labels = []) {
  if (!text) return null;
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    if (!labels.every((label) => rest.includes(label))) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) {
      sum += value;
      found = true;
    }
  }
  return found ? sum : null;
}

/** What the two apps' counters say happened between two scrapes. */
export function metricsBetween(before, after) {
  const delta = (text0, text1, name, labels) => {
    const a = metricSum(text0, name, labels);
    const b = metricSum(text1, name, labels);
    return a === null || b === null ? null : b - a;
  };
  /** Mean of a histogram over the window, in ms. */
  const meanMs = (text0, text1, name, labels) => {
    const sum = delta(text0, text1, `${name}_sum`, labels);
    const count = delta(text0, text1, `${name}_count`, labels);
    return sum === null || !count ? null : Math.round((sum / count) * 1e5) / 100;
  };
  const g0 = before.gateway;
  const g1 = after.gateway;
  const s0 = before.secure;
  const s1 = after.secure;
  return {
    gatewayHttpMeanMs: meanMs(g0, g1, 'polystore_http_request_seconds', ['route="/v1/customers/:id"']),
    gatewayRpcMeanMs: meanMs(g0, g1, 'polystore_rpc_client_seconds', ['customers.get']),
    dataSourcesOpened: delta(s0, s1, 'polystore_datasources_opened_total'),
    dataSourcesClosed: delta(s0, s1, 'polystore_datasources_closed_total'),
    evictions: delta(s0, s1, 'polystore_datasource_evictions_total'),
    busyRejections: delta(s0, s1, 'polystore_datasource_busy_rejections_total'),
    sharedPoolUnits: delta(s0, s1, 'polystore_shared_pool_units_total'),
    sharedPoolBusyRejections: delta(s0, s1, 'polystore_shared_pool_busy_rejections_total'),
    sharedPoolRecycled: delta(s0, s1, 'polystore_shared_pool_recycled_total'),
    sharedPoolDiscarded: delta(s0, s1, 'polystore_shared_pool_discarded_total'),
    sharedPoolSize: metricSum(s1, 'polystore_shared_pool_size'),
    initFailures: delta(s0, s1, 'polystore_datasource_init_failures_total'),
    liveDataSourcesAtEnd: metricSum(s1, 'polystore_datasources_live'),
    dataSourceCapacity: metricSum(s1, 'polystore_datasources_capacity'),
  };
}
