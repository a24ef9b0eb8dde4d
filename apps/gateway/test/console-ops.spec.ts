import { describe, expect, it } from '@jest/globals';
import { serverPools, type RouterStats } from '#polystore/data-router';
import type { RunRecord } from '#polystore/jobs';
import type { StorePoolView } from '#polystore/messaging';
import { nextRunOf } from '../src/console/job-runs.service.js';
import { hostPortOf } from '../src/console/store-pools.service.js';
import { interval, jobsPage, runFailed } from '../src/console/views/jobs.view.js';
import { poolKind, serversPage } from '../src/console/views/servers.view.js';

const SESSION = { nonce: 'bm9uY2U', expiresAt: 2_000_000_000, csrfToken: 'Y3NyZg' };
const PG = 'postgres://10.0.0.5:5432';
const MARIA = 'mysql://10.0.0.6:3306';

const STATS: RouterStats = {
  store: 'secure',
  opened: 4,
  closed: 1,
  initFailures: 0,
  servers: [
    { server: PG, connectionBudget: 40, serverConnections: 97, live: 9, waiting: 2, evictions: 1, busyRejections: 3 },
    {
      server: MARIA,
      connectionBudget: 20,
      serverConnections: null,
      live: 0,
      waiting: 0,
      evictions: 0,
      busyRejections: 0,
    },
  ],
  clusters: [],
  sharedPools: [
    {
      server: PG,
      database: 'polystore_secure',
      size: 20,
      reserved: 4,
      tenantCap: 10,
      inUse: 2,
      waiting: 1,
      tenantsActive: 2,
      units: 120,
      recycled: 0,
      discarded: 0,
      busyRejections: 2,
    },
  ],
  dataSources: [
    {
      tenant: 'acme',
      server: PG,
      database: 'tenant_acme',
      version: 1,
      state: 'open',
      inFlight: 1,
      idleMs: 0,
      uses: 30,
      initMs: 12,
      circuit: 'closed',
    },
  ],
};

const run = (overrides: Partial<RunRecord>): RunRecord => ({
  id: '00000000-0000-4000-8000-000000000001',
  job: 'usage-rollup',
  slot: new Date('2026-12-07T10:00:00Z'),
  params: {},
  state: 'FINISHED',
  owner: 'gateway:a',
  leaseUntil: null,
  total: 3,
  ok: 3,
  failed: 0,
  skipped: 0,
  createdAt: new Date('2026-12-07T10:00:01Z'),
  finishedAt: new Date('2026-12-07T10:00:02Z'),
  ...overrides,
});

describe('console ops - the servers and jobs pages (pure parts)', () => {
  it('console ops - serverPools sums each server over its shared pools and own pools, by server, without the scheme', () => {
    expect(serverPools(STATS)).toEqual([
      {
        server: '10.0.0.5:5432',
        dialect: 'postgres',
        sharedDatabases: ['polystore_secure'],
        ownPools: 1,
        inUse: 3,
        idle: 6,
        waiting: 3,
        connectionBudget: 40,
        serverConnections: 97,
        units: 150,
        busyRejections: 5,
        evictions: 1,
      },
      {
        server: '10.0.0.6:3306',
        dialect: 'mysql',
        sharedDatabases: [],
        ownPools: 0,
        inUse: 0,
        idle: 0,
        waiting: 0,
        connectionBudget: 20,
        serverConnections: null,
        units: 0,
        busyRejections: 0,
        evictions: 0,
      },
    ]);
  });

  it('console ops - hostPortOf keeps host and port of a server URL, never its user, password or options', () => {
    expect(hostPortOf('postgres://admin:s3cret@db.internal:6432/x?sslmode=require')).toBe('db.internal:6432');
    expect(hostPortOf('mysql://root:pw@10.0.0.6')).toBe('10.0.0.6:3306');
    expect(hostPortOf('not a url with a s3cret')).toBe('');
  });

  it('console ops - poolKind: shared, own pools, both, or none', () => {
    const pool = (sharedDatabases: string[], ownPools: number) => ({ sharedDatabases, ownPools }) as StorePoolView;
    expect([poolKind(pool(['a'], 0)), poolKind(pool([], 2)), poolKind(pool(['a'], 1)), poolKind(pool([], 0))]).toEqual([
      'shared',
      'own pools',
      'shared + own pools',
      'none open',
    ]);
  });

  it('console ops - the servers page: a row per store and server, a down store with its code, strained pools flagged, text escaped', () => {
    const [pg] = serverPools(STATS);
    const page = serversPage(
      [
        { store: 'secure', state: 'ok', instance: 'i1', pools: [{ ...pg!, sharedDatabases: ['<b>x</b>'] }] },
        { store: 'reliable', state: 'down', code: 'SERVICE_UNAVAILABLE', defaultServer: '10.0.0.6:3306' },
        {
          store: 'edge',
          state: 'ok',
          instance: 'i2',
          pools: [],
          stream: {
            messages: 5,
            bytes: 900,
            maxMessages: null,
            maxBytes: 1000,
            fillRatio: 0.9,
            checkedAt: '2026-12-07T10:00:00.000Z',
          },
        },
      ],
      SESSION,
    ).value;
    expect([...page.matchAll(/<tr data-server="([^"]+)"/g)].map((m) => m[1])).toEqual([
      'secure:10.0.0.5:5432',
      'reliable:10.0.0.6:3306',
    ]);
    expect(page).toContain(
      '<tr data-server="secure:10.0.0.5:5432" data-store="secure" data-state="ok" class="strained">',
    );
    expect(page).toMatch(/data-state="down">[\s\S]*<code class="code">SERVICE_UNAVAILABLE<\/code>/);
    expect(page).toContain('<tr data-store="edge" data-state="ok">');
    expect(page).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(page).not.toContain('<b>x</b>');
    expect(page).toMatch(/<tr data-stream="telemetry" class="strained">/);
    expect(page).toContain('<td data-figure="messages">5 / —</td>');
    expect(page).toContain('<td data-figure="fill">90.0%</td>');
  });

  it('console ops - nextRunOf: the next slot once the current one ran, else due now', () => {
    const now = new Date('2026-12-07T10:07:30Z');
    const hour = 3_600_000;
    expect(nextRunOf(now, hour, new Date('2026-12-07T10:00:00Z'))).toEqual({
      at: new Date('2026-12-07T11:00:00Z'),
      due: false,
    });
    expect(nextRunOf(now, hour, new Date('2026-12-07T09:00:00Z'))).toEqual({ at: now, due: true });
    expect(nextRunOf(now, hour, null)).toEqual({ at: now, due: true });
  });

  it('console ops - interval in whole units; runFailed on a failed tenant or a cancelled run', () => {
    expect([interval(1_000), interval(900_000), interval(86_400_000), interval(1_500)]).toEqual([
      '1 s',
      '15 min',
      '1 d',
      '1500 ms',
    ]);
    expect([runFailed(run({})), runFailed(run({ failed: 1 })), runFailed(run({ state: 'CANCELLED' }))]).toEqual([
      false,
      true,
      true,
    ]);
  });

  it('console ops - the jobs page: a row per run with its counts, failures highlighted, the filter selected', () => {
    const failed = run({ id: '00000000-0000-4000-8000-000000000002', ok: 2, failed: 1 });
    const page = jobsPage(
      ['idempotency-purge', 'usage-rollup'],
      'usage-rollup',
      [
        {
          job: 'usage-rollup',
          intervalMs: 3_600_000,
          next: { at: new Date('2026-12-07T11:00:00Z'), due: false },
          latest: failed,
        },
      ],
      [failed, run({})],
      SESSION,
    ).value;
    expect([...page.matchAll(/<tr data-run="([^"]+)"/g)].map((m) => m[1])).toEqual([failed.id, run({}).id]);
    expect(page).toContain(`<tr data-run="${failed.id}" data-job="usage-rollup" data-state="FINISHED" class="failed">`);
    expect(page).toContain(`<tr data-run="${run({}).id}" data-job="usage-rollup" data-state="FINISHED" class="">`);
    expect(page).toContain('<td data-figure="failed" class="error">1</td>');
    expect(page).toContain('data-next="2026-12-07T11:00:00.000Z"');
    expect(page).toMatch(/<option value="usage-rollup"\s+selected>/);
  });
});
