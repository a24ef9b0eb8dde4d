import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '../support/eventually.js';
import { uniqueToken } from '../support/ids.js';
import { pgQuery } from '../support/pg.js';
import { TestServices } from '../support/services.js';
import { TestStack, type TestTenant } from '../support/stack.js';

/**
 * The gateway's scheduler in real processes: two gateway replicas on one system database (of
 * this suite alone, so no other suite's tenants are touched), the built-in jobs on second-long
 * intervals: every slot runs once, for every tenant once, whichever replica drives it.
 */
describe('scheduler - two gateway replicas run each scheduled slot once (e2e)', () => {
  const systemDb = `ps_sys_e2e_${uniqueToken(8)}`;
  let stack: TestStack;
  const tenants: TestTenant[] = [];
  const jobsEnv = {
    JOBS: 'device-offline,usage-rollup',
    JOB_INTERVALS: 'device-offline=700,usage-rollup=1100',
    JOB_TICK_MS: '50',
    JOB_LEASE_MS: '3000',
  };

  beforeAll(async () => {
    const systemUrl = new URL(TestServices.systemDbUrl);
    systemUrl.pathname = `/${systemDb}`;
    stack = await TestStack.start({
      apps: ['reliable-store', 'edge-store', 'gateway'],
      env: {
        SYSTEM_DB_URL: systemUrl.toString(),
        ...jobsEnv,
      },
    });
    await stack.startReplica('gateway', 'b');
    tenants.push(await stack.createTenant(), await stack.createTenant());
  }, 90_000);

  afterAll(async () => {
    await stack?.close();
    await pgQuery(`DROP DATABASE IF EXISTS "${systemDb}" WITH (FORCE)`);
  }, 60_000);

  const system = <R extends Record<string, unknown>>(sql: string, params: unknown[] = []) =>
    pgQuery<R>(sql, params, systemDb);

  it('scheduler - every slot of each job is one run, covering each active tenant once, all ok', async () => {
    const slugs = tenants.map((t) => t.slug).sort();
    type Run = { id: string; job: string; slot: Date; owner: string; ok: number; failed: number; total: number };
    const runs = await eventually(
      async () => {
        const rows = await system<Run>(
          `SELECT id, job, slot, owner, ok, failed, total FROM job_runs
           WHERE state = 'FINISHED' AND slot IS NOT NULL AND total = $1 ORDER BY slot`,
          [slugs.length],
        );
        const perJob = (job: string) => rows.filter((r) => r.job === job).length;
        return perJob('device-offline') >= 4 && perJob('usage-rollup') >= 3 && rows;
      },
      { timeoutMs: 30_000, what: 'four device-offline and three usage-rollup runs over both tenants' },
    );

    const duplicates = await system(
      'SELECT job, slot FROM job_runs WHERE slot IS NOT NULL GROUP BY job, slot HAVING count(*) > 1',
    );
    expect(duplicates).toEqual([]);
    for (const run of runs) {
      expect(run).toMatchObject({ ok: slugs.length, failed: 0 });
      expect(run.owner).toMatch(/^gateway:/);
      const done = await system<{ tenant: string; status: string }>(
        'SELECT tenant, status FROM job_run_tenants WHERE run_id = $1 ORDER BY tenant',
        [run.id],
      );
      expect(done).toEqual(slugs.map((tenant) => ({ tenant, status: 'ok' })));
    }
    // Slots are aligned to each job's interval, whichever replica inserted them.
    for (const run of runs) {
      const interval = run.job === 'device-offline' ? 700 : 1100;
      expect(run.slot.getTime() % interval).toBe(0);
    }
  }, 60_000);
});
