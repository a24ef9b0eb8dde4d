import { collectDefaultMetrics, Registry } from 'prom-client';

/** The prefix of every metric name a Polystore process exports (docs/observability.md). */
export const METRIC_PREFIX = 'polystore_';

/**
 * prom-client's default metrics that break the naming conventions: gauges named `_total` (a
 * Prometheus lint finds them). Each is the sum over `type` of the gauge of the same name without
 * the suffix, which stays.
 */
const DROPPED_DEFAULT_METRICS = [
  'nodejs_active_resources_total',
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
];

/**
 * One Prometheus registry per process, with the default Node.js metrics and a `service` label.
 * Libraries register their own collectors on it (see `registerDataRouterMetrics`). Every name
 * starts with {@link METRIC_PREFIX}; counters end in `_total`, durations are histograms in seconds.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  for (const name of DROPPED_DEFAULT_METRICS) registry.removeSingleMetric(`${METRIC_PREFIX}${name}`);
  return registry;
}
