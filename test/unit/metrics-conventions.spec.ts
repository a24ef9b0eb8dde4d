import { describe, expect, it } from '@jest/globals';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  registerDataRouterMetrics,
  type DataSourceRouter,
  type RouterObserver,
  type RouterStats,
} from '#polystore/data-router';
import { createMetricsRegistry } from '#polystore/platform';
import {
  conventionProblems,
  parseExposition,
  promtoolCheckMetrics,
  promtoolPath,
  retiredMetricNames,
  sampleSum,
} from '../support/metrics-lint.js';

const RETIRED = retiredMetricNames(new URL('../../docs/observability.md', import.meta.url));
const promtool = promtoolPath();

/** Every problem of a scrape: the parser's, the conventions', and promtool's when installed. */
function lint(text: string, options: { tenantLabels?: boolean } = {}): string[] {
  const { families, problems } = parseExposition(text);
  const found = [...problems, ...conventionProblems(families, { ...options, retired: RETIRED })];
  if (promtool) {
    const checked = promtoolCheckMetrics(promtool, text);
    if (checked.status !== 0 || checked.output) found.push(`promtool: ${checked.output}`);
  }
  return found;
}

/** A router as `registerDataRouterMetrics` sees it: stats and an observer hook. */
function fakeRouter(stats: RouterStats): { router: DataSourceRouter; observers: RouterObserver[] } {
  const observers: RouterObserver[] = [];
  const router = { stats: () => stats, observe: (o: RouterObserver) => observers.push(o) };
  return { router: router as unknown as DataSourceRouter, observers };
}

const SERVER = 'postgres://127.0.0.1:5432';
const STATS: RouterStats = {
  store: 'secure',
  opened: 3,
  closed: 1,
  initFailures: 0,
  servers: [
    {
      server: SERVER,
      connectionBudget: 40,
      serverConnections: null,
      live: 6,
      waiting: 0,
      evictions: 2,
      busyRejections: 1,
    },
  ],
  clusters: [],
  sharedPools: [
    {
      server: SERVER,
      database: 'polystore_secure',
      size: 20,
      reserved: 4,
      tenantCap: 10,
      inUse: 1,
      waiting: 0,
      tenantsActive: 1,
      units: 120,
      recycled: 0,
      discarded: 0,
      busyRejections: 0,
    },
  ],
  dataSources: [
    {
      tenant: 'acme',
      server: SERVER,
      database: 'ps_secure_0a1b',
      version: 1,
      state: 'open',
      inFlight: 2,
      idleMs: 0,
      uses: 9,
      initMs: 40,
      circuit: 'closed',
    },
  ],
};

describe('metrics - the naming conventions, and the lint that checks them', () => {
  it('metrics - the lint finds every kind of problem in a scrape that breaks them (old names included)', async () => {
    const registry = new Registry();
    new Gauge({ name: 'polystore_datasources_opened', help: 'old: a total as a gauge', registers: [registry] }).set(1);
    new Gauge({ name: 'polystore_datasource_init_ms', help: 'old', labelNames: ['tenant'], registers: [registry] }).set(
      { tenant: 'acme' },
      40,
    );
    new Counter({ name: 'polystore_things', help: 'a counter without _total', registers: [registry] }).inc();
    new Histogram({ name: 'polystore_payload_bytes', help: 'not a duration', registers: [registry] }).observe(3);
    new Gauge({ name: 'unprefixed_total', help: 'a gauge named _total', registers: [registry] }).set(1);
    const text = await registry.metrics();
    const problems = lint(text);
    expect(problems).toEqual(
      expect.arrayContaining([
        'polystore_datasources_opened: a retired name (see the migration table)',
        'polystore_datasource_init_ms: milliseconds (use seconds)',
        'polystore_datasource_init_ms: a retired name (see the migration table)',
        'polystore_datasource_init_ms: per-tenant label "tenant"',
        'polystore_things: a counter not ending in _total',
        'polystore_payload_bytes: a histogram not in seconds',
        'unprefixed_total: does not start with polystore_',
        'unprefixed_total: a gauge ending in _total',
      ]),
    );
    if (promtool) expect(problems.find((p) => p.startsWith('promtool:'))).toContain('_total');
    expect(RETIRED).toEqual(expect.arrayContaining(['polystore_datasource_init_ms', 'polystore_shared_pool_units']));
  });

  it('metrics - the parser rejects a malformed exposition (quoting, order, histogram buckets)', () => {
    const bad = [
      '# TYPE polystore_a_seconds histogram',
      'polystore_a_seconds_bucket{le="0.1"} 5',
      'polystore_a_seconds_bucket{le="1"} 3',
      'polystore_a_seconds_sum 1',
      'polystore_a_seconds_count 4',
      '# TYPE polystore_b gauge',
      'polystore_b{x="unterminated} 1',
      'polystore_b{x=1} 1',
      '',
    ].join('\n');
    const { problems } = parseExposition(bad);
    expect(problems.join('\n')).toMatch(/no \+Inf bucket/);
    expect(problems.join('\n')).toMatch(/buckets not cumulative/);
    expect(problems.join('\n')).toMatch(/unterminated value of label "x"/);
    expect(problems.join('\n')).toMatch(/label "x" value not quoted/);
  });

  it('metrics - a process registry (defaults) and the data router metrics pass the lint with 0 problems, and have no tenant label', async () => {
    const registry = createMetricsRegistry('secure-store');
    const { router, observers } = fakeRouter(STATS);
    registerDataRouterMetrics(router, registry);
    observers.forEach((o) => o.poolWait?.(SERVER, 0.002));
    observers.forEach((o) => o.initialized?.(SERVER, 0.04));
    const text = await registry.metrics();
    expect(lint(text)).toEqual([]);
    expect(text).toContain(`polystore_datasources_opened_total{store="secure",service="secure-store"} 3`);
    expect(text).toContain(
      `polystore_shared_pool_units_total{store="secure",server="${SERVER}",database="polystore_secure",service="secure-store"} 120`,
    );
    const { families } = parseExposition(text);
    expect(sampleSum(families, 'polystore_pool_wait_seconds_count', { store: 'secure', server: SERVER })).toBe(1);
    expect(sampleSum(families, 'polystore_datasource_init_seconds_sum', { store: 'secure', server: SERVER })).toBe(
      0.04,
    );
    expect(text).toContain(
      `polystore_datasource_in_flight{store="secure",server="${SERVER}",state="open",circuit="closed",service="secure-store"} 2`,
    );
    expect(text).not.toContain('acme');
    expect(text).not.toContain('polystore_tenant_datasource_in_flight');
  });

  it('metrics - with tenant labels opted in, the per-DataSource series appear (and only then)', async () => {
    const registry = createMetricsRegistry('secure-store');
    registerDataRouterMetrics(fakeRouter(STATS).router, registry, { tenantLabels: true });
    const text = await registry.metrics();
    expect(text).toContain(
      `polystore_tenant_datasource_in_flight{store="secure",server="${SERVER}",tenant="acme",database="ps_secure_0a1b",state="open",circuit="closed",service="secure-store"} 2`,
    );
    expect(lint(text, { tenantLabels: true })).toEqual([]);
    expect(lint(text)).toEqual(['polystore_tenant_datasource_in_flight: per-tenant label "tenant"']);
  });
});
