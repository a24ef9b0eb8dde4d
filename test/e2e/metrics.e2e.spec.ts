import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream } from '@nats-io/jetstream';
import { ingestConnection, type PrivateBroker } from '../support/device-broker.js';
import { eventually } from '../support/eventually.js';
import { httpRequest } from '../support/http.js';
import { uniqueToken } from '../support/ids.js';
import {
  conventionProblems,
  parseExposition,
  promtoolCheckMetrics,
  promtoolPath,
  retiredMetricNames,
  sampleSum,
  type Family,
} from '../support/metrics-lint.js';
import { pgQuery } from '../support/pg.js';
import { TestServices } from '../support/services.js';
import { TestStack, type AppName, type TestTenant } from '../support/stack.js';

const RETIRED = retiredMetricNames(new URL('../../docs/observability.md', import.meta.url));
const APPS: readonly AppName[] = ['secure-store', 'reliable-store', 'edge-store', 'gateway'];

/**
 * Every service's real `/metrics` after some traffic (a customer, a device registration saga,
 * telemetry over HTTP and a message the edge store dead-letters, a scheduled job): 0 problems for
 * `promtool check metrics` (where installed) and for the conventions of docs/observability.md
 * (one prefix, counters `_total`, histograms in seconds, no milliseconds, no tenant label, no
 * retired name), and the new metrics there with values that follow from the traffic. The suite
 * has its own system database, so its scheduler runs jobs over its own tenant only.
 */
describe('metrics - every service exports lint-clean metrics by the conventions, the new ones included (e2e)', () => {
  const systemDb = `ps_sys_e2e_${uniqueToken(8)}`;
  let stack: TestStack;
  let tenant: TestTenant;
  const promtool = promtoolPath();

  beforeAll(async () => {
    const systemUrl = new URL(TestServices.systemDbUrl);
    systemUrl.pathname = `/${systemDb}`;
    stack = await TestStack.start({
      apps: APPS,
      parallelStart: true,
      env: {
        SYSTEM_DB_URL: systemUrl.toString(),
        JOBS: 'idempotency-purge',
        JOB_INTERVALS: 'idempotency-purge=1000',
        JOB_TICK_MS: '100',
        TELEMETRY_FILL_CHECK_MS: '200',
      },
    });
    tenant = await stack.createTenant('metrics');
  }, 90_000);

  afterAll(async () => {
    await stack?.close();
    await pgQuery(`DROP DATABASE IF EXISTS "${systemDb}" WITH (FORCE)`);
  });

  const call = (method: string, path: string, body?: unknown) =>
    stack.request({ method, path, body, tenant: tenant.slug, apiKey: tenant.apiKey });
  const scrape = async (app: AppName): Promise<string> => {
    const res =
      app === 'gateway'
        ? await stack.internal({ path: '/metrics' })
        : await httpRequest({ port: stack.app(app).port, path: '/metrics' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    return res.text;
  };
  const families = async (app: AppName): Promise<Map<string, Family>> => parseExposition(await scrape(app)).families;

  it('metrics - after a customer, a device registration saga, telemetry and a job run, every /metrics has 0 lint problems and follows the conventions', async () => {
    expect((await call('POST', '/v1/customers', { name: 'Ada', email: 'ada@example.com' })).status).toBe(201);
    const device = await call('POST', '/v1/devices', { name: 'meter', model: 'EM-340' });
    expect(device.status).toBe(201);
    const { id: deviceId, token } = device.body as { id: string; token: string };
    const ingest = await httpRequest({
      port: stack.app('edge-store').port,
      method: 'POST',
      path: '/ingest',
      headers: { authorization: `Bearer ${token}` },
      body: [1, 2, 3].map((seq) => ({ seq, ts: new Date().toISOString(), metrics: { kwh: seq } })),
    });
    expect(ingest.status).toBe(202);
    // A message the edge store cannot read: straight into the telemetry stream, as HTTP ingest
    // publishes, so it is dead-lettered (invalid-payload).
    const nc = await ingestConnection(stack.broker as PrivateBroker);
    try {
      await jetstream(nc).publish(`ingest.http.tenants.${tenant.slug}.devices.${deviceId}.telemetry`, 'not json');
    } finally {
      await nc.close();
    }

    // Everything above is counted where it happened.
    await eventually(
      async () => {
        const edge = await families('edge-store');
        return (
          (sampleSum(edge, 'polystore_ingest_readings_total', { path: 'stream' }) ?? 0) >= 3 &&
          (sampleSum(edge, 'polystore_ingest_dead_letters_total', { reason: 'invalid-payload' }) ?? 0) >= 1
        );
      },
      { timeoutMs: 20_000, what: 'readings stored and a dead letter counted' },
    );
    // A run that went over the suite's tenant (a run may have finished before the tenant existed).
    await eventually(
      async () => {
        const gateway = await families('gateway');
        return (
          (sampleSum(gateway, 'polystore_job_runs_total', { job: 'idempotency-purge', state: 'finished' }) ?? 0) >= 1 &&
          (sampleSum(gateway, 'polystore_job_tenants_total', { job: 'idempotency-purge', status: 'ok' }) ?? 0) >= 1
        );
      },
      { timeoutMs: 20_000, what: 'a finished job run over the tenant' },
    );
    await eventually(
      async () => (sampleSum(await families('reliable-store'), 'polystore_outbox_events_published_total') ?? 0) >= 1,
      { timeoutMs: 20_000, what: 'outbox events published' },
    );

    for (const app of APPS) {
      const text = await scrape(app);
      const { families: parsed, problems } = parseExposition(text);
      expect({ app, problems }).toEqual({ app, problems: [] });
      expect({ app, conventions: conventionProblems(parsed, { retired: RETIRED }) }).toEqual({ app, conventions: [] });
      if (promtool)
        expect({ app, promtool: promtoolCheckMetrics(promtool, text) }).toEqual({
          app,
          promtool: { status: 0, output: '' },
        });
      for (const family of parsed.values())
        for (const sample of family.samples)
          expect({ name: sample.name, service: sample.labels['service'] }).toEqual({ name: sample.name, service: app });
    }
  }, 120_000);

  it('metrics - the gateway: saga step latency by step, sagas by state, job runs and their tenants', async () => {
    const gateway = await families('gateway');
    const steps = ['registry', 'credential', 'provision', 'activate'];
    for (const step of steps) {
      const labels = { saga: 'device-registration', step, phase: 'action', outcome: 'ok' };
      // One attempt each, unless a store was slow to answer (then the retries are counted too).
      expect(sampleSum(gateway, 'polystore_saga_step_seconds_count', labels)).toBeGreaterThanOrEqual(1);
      expect(sampleSum(gateway, 'polystore_saga_step_seconds_count', labels)).toBe(
        sampleSum(gateway, 'polystore_saga_step_attempts_total', labels),
      );
      const seconds = sampleSum(gateway, 'polystore_saga_step_seconds_sum', labels)!;
      expect(seconds).toBeGreaterThan(0);
      expect(seconds).toBeLessThan(10);
    }
    expect(
      sampleSum(gateway, 'polystore_sagas_finished_total', { saga: 'device-registration', state: 'SUCCEEDED' }),
    ).toBe(1);
    expect(gateway.get('polystore_sagas')?.type).toBe('gauge');
    expect(
      sampleSum(gateway, 'polystore_job_tenants_total', { job: 'idempotency-purge', status: 'ok' }),
    ).toBeGreaterThanOrEqual(1);
    const lastSuccess = sampleSum(gateway, 'polystore_job_last_success_timestamp_seconds', {
      job: 'idempotency-purge',
    })!;
    expect(Date.now() / 1000 - lastSuccess).toBeLessThan(60);
    expect(
      sampleSum(gateway, 'polystore_job_run_seconds_count', { job: 'idempotency-purge', state: 'finished' }),
    ).toBeGreaterThanOrEqual(1);
    expect(gateway.get('polystore_job_runs_in_progress')?.type).toBe('gauge');
  });

  it('metrics - the stores: pool waits per server, the outbox drained, ingest lag and backlog back to 0', async () => {
    for (const [app, store] of [
      ['secure-store', 'secure'],
      ['reliable-store', 'reliable'],
      ['edge-store', 'edge'],
    ] as const) {
      const found = await families(app);
      const waits = found.get('polystore_pool_wait_seconds')!;
      expect(waits.type).toBe('histogram');
      const servers = new Set(waits.samples.map((s) => s.labels['server']));
      expect({ app, servers: servers.size }).toEqual({ app, servers: 1 });
      expect(sampleSum(found, 'polystore_pool_wait_seconds_count', { store })).toBeGreaterThanOrEqual(1);
      expect(sampleSum(found, 'polystore_shared_pool_units_total', { store })).toBeGreaterThanOrEqual(1);
      expect(found.get('polystore_datasources_opened_total')?.type).toBe('counter');
    }

    const reliable = await eventually(async () => {
      const found = await families('reliable-store');
      return sampleSum(found, 'polystore_outbox_backlog_events') === 0 ? found : false;
    });
    expect(sampleSum(reliable, 'polystore_outbox_oldest_event_age_seconds')).toBe(0);
    expect(sampleSum(reliable, 'polystore_outbox_backlog_tenants')).toBe(0);
    const delays = sampleSum(reliable, 'polystore_outbox_publish_delay_seconds_count')!;
    expect(delays).toBe(sampleSum(reliable, 'polystore_outbox_events_published_total'));
    expect(sampleSum(reliable, 'polystore_outbox_drain_failures_total')).toBe(0);

    const edge = await eventually(async () => {
      const found = await families('edge-store');
      return sampleSum(found, 'polystore_ingest_backlog_messages') === 0 ? found : false;
    });
    expect(sampleSum(edge, 'polystore_ingest_lag_seconds')).toBe(0);
    expect(sampleSum(edge, 'polystore_ingest_publish_to_stored_seconds_count')).toBeGreaterThanOrEqual(1);
  });
});
