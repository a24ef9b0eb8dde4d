import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * One Prometheus registry per process, with the default Node.js metrics and a `service` label.
 * Libraries register their own collectors on it (see `registerDataRouterMetrics`).
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'polystore_' });
  return registry;
}
