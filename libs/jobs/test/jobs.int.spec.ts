import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CatalogException, openSystemDatabase } from '#polystore/catalog';
import { DatabaseAdmin, DataSourceRouter } from '#polystore/data-router';
import { forEachTenant, JOB_MIGRATIONS, JobRunLog, JobScheduler, TenantSkipped, type TenantJob } from '#polystore/jobs';
import type { MessageClient } from '#polystore/messaging';
import { parseTenantSlug } from '#polystore/tenancy';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DataSource } from 'typeorm';
import { eventually } from '../../../test/support/eventually.js';
import { uniqueToken } from '../../../test/support/ids.js';
import { stackClient } from '../../../test/support/nats.js';
import { TestServices } from '../../../test/support/services.js';
import { databasePerTenant } from '../../../test/support/db.js';

const TENANTS = 30;

describe('jobs - tenant iterator, checkpoint and scheduler (real PostgreSQL)', () => {
  const token = uniqueToken(6);
  const tenants = Array.from({ length: TENANTS }, (_, i) => `jobs-${token}-${String(i).padStart(2, '0')}`);
  const databaseOf = (tenant: string) => `ps_jobs_${tenant.replaceAll('-', '_')}`;
  let db: DataSource;
  let log: JobRunLog;
  let router: DataSourceRouter;
  let nc: NatsConnection;
  let messages: MessageClient;
  const schedulers: JobScheduler[] = [];

  beforeAll(async () => {
    db = await openSystemDatabase({
      url: TestServices.systemDbUrl,
      poolSize: 4,
      applicationName: 'jobs-test',
      extraMigrations: [...JOB_MIGRATIONS],
    });
    log = new JobRunLog(db);
    for (let i = 0; i < TENANTS; i += 6)
      await Promise.all(
        tenants.slice(i, i + 6).map((t) => DatabaseAdmin.ensureDatabase(TestServices.postgresUrl, databaseOf(t))),
      );
    router = new DataSourceRouter({
      name: 'jobs-test',
      resolvePlacement: databasePerTenant(databaseOf),
      schema: { entities: [] },
      poolSize: 1,
      connectionBudget: 8,
      idleTtlMs: 60_000,
      maxWaiters: 100,
      acquireTimeoutMs: 5_000,
      breaker: { consecutiveFailures: 100, halfOpenAfterMs: 500 },
      applicationName: 'jobs-test',
    });
    ({ nc, client: messages } = await stackClient(`jobs${token}`));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(schedulers.map((s) => s.stop()));
    await router?.close();
    for (let i = 0; i < TENANTS; i += 6)
      await Promise.all(
        tenants.slice(i, i + 6).map((t) => DatabaseAdmin.dropDatabase(TestServices.postgresUrl, databaseOf(t))),
      );
    await nc?.close();
    await db?.destroy();
  }, 120_000);

  /** Work that reads the tenant's own database (fails when it is gone). */
  const readTenantDatabase = () =>
    router.run(async (ds) => Number((await ds.query('SELECT count(*)::int AS n FROM pg_class'))[0].n));

  it('iterator - 30 tenants, one database dropped by hand: that tenant failed, the 29 others ok', async () => {
    const broken = tenants[7]!;
    await DatabaseAdmin.dropDatabase(TestServices.postgresUrl, databaseOf(broken));
    try {
      const progress: number[] = [];
      const report = await forEachTenant({
        tenants,
        concurrency: 4,
        tenantTimeoutMs: 10_000,
        onProgress: (p) => progress.push(p.done),
        work: readTenantDatabase,
      });
      expect(report).toMatchObject({
        total: TENANTS,
        ok: TENANTS - 1,
        failed: 1,
        skipped: 0,
        resumed: 0,
        cancelled: false,
      });
      const failed = report.outcomes.filter((o) => o.status === 'failed');
      expect(failed.map((o) => o.tenant)).toEqual([broken]);
      expect(failed[0]!.error!.message).toMatch(/does not exist|unavailable|cannot open/i);
      expect(report.outcomes.filter((o) => o.status === 'ok').every((o) => (o.result as number) > 0)).toBe(true);
      expect(progress.at(-1)).toBe(TENANTS);
      expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    } finally {
      await DatabaseAdmin.ensureDatabase(TestServices.postgresUrl, databaseOf(broken));
    }
  });

  it('iterator - a hung tenant fails with TIMEOUT and does not hold up the others; a skip is reported as skipped', async () => {
    const hung = tenants[3]!;
    const skipped = tenants[4]!;
    const report = await forEachTenant({
      tenants: tenants.slice(0, 10),
      concurrency: 2,
      tenantTimeoutMs: 300,
      work: async (tenant, signal) => {
        if (tenant === hung) await new Promise((resolve) => signal.addEventListener('abort', resolve));
        if (tenant === skipped) throw new TenantSkipped('no edge database');
        return tenant;
      },
    });
    expect(report).toMatchObject({ ok: 8, failed: 1, skipped: 1 });
    expect(report.outcomes[3]).toMatchObject({ tenant: hung, status: 'failed', error: { code: 'TIMEOUT' } });
    expect(report.outcomes[4]).toMatchObject({
      status: 'skipped',
      error: { code: 'SKIPPED', message: 'no edge database' },
    });
  });

  it('checkpoint - a run stopped halfway resumes without repeating finished tenants, and retries the failed one', async () => {
    const job = `resume-${token}`;
    const run = (await log.start(job, { owner: 'first', leaseMs: 60_000 }))!;
    const calls = new Map<string, number>();
    const count = (tenant: string) => calls.set(tenant, (calls.get(tenant) ?? 0) + 1);
    const crash = new AbortController();
    const first = await forEachTenant({
      tenants,
      concurrency: 2,
      tenantTimeoutMs: 10_000,
      signal: crash.signal,
      checkpoint: { log, runId: run.id },
      onProgress: (p) => {
        if (p.done >= 12) crash.abort();
      },
      work: async (tenant) => {
        count(tenant);
        if (tenant === tenants[1]) throw new Error('flaky');
        return readTenantDatabase();
      },
    });
    expect(first.cancelled).toBe(true);
    const finishedFirst = first.outcomes.filter((o) => o.status === 'ok').map((o) => o.tenant);
    expect(finishedFirst.length).toBeGreaterThanOrEqual(11);
    expect(first.outcomes.filter((o) => o.error?.code === 'CANCELLED').length).toBeGreaterThan(0);

    // The first driver died: its lease runs out, another process claims the run.
    await log.release(run.id, 'first');
    const claimed = await log.claimAbandoned(job, 'second', 60_000);
    expect(claimed?.id).toBe(run.id);
    const second = await forEachTenant({
      tenants,
      concurrency: 4,
      tenantTimeoutMs: 10_000,
      checkpoint: { log, runId: run.id },
      work: async (tenant) => {
        count(tenant);
        return readTenantDatabase();
      },
    });
    expect(second).toMatchObject({ total: TENANTS, ok: TENANTS, failed: 0, resumed: finishedFirst.length });
    for (const tenant of finishedFirst) expect(calls.get(tenant)).toBe(1);
    expect(calls.get(tenants[1]!)).toBe(2);
    expect(tenants.every((t) => calls.has(t))).toBe(true);
    expect((await log.outcomes(run.id)).filter((o) => o.status === 'ok')).toHaveLength(TENANTS);
  });

  it("scheduler - two replicas: every slot runs once, for every tenant once; a dead replica's run is resumed by the other", async () => {
    const name = `tick-${token}`;
    const ran = new Map<string, number>();
    const job: TenantJob = {
      name,
      description: 'counts its calls',
      intervalMs: 400,
      tenantTimeoutMs: 5_000,
      concurrency: 3,
      run: async (tenant, { now }) => {
        const key = `${now.toISOString()}/${tenant}`;
        ran.set(key, (ran.get(key) ?? 0) + 1);
        return readTenantDatabase();
      },
    };
    const few = tenants.slice(0, 5);
    // A run abandoned by a replica that died after two tenants (its lease has expired).
    const orphan = (await log.start(name, { owner: 'dead-replica', leaseMs: 1, params: { tenants: few } }))!;
    for (const tenant of few.slice(0, 2)) await log.record(orphan.id, { tenant, status: 'ok', durationMs: 1 });

    for (const owner of ['replica-a', 'replica-b']) {
      const scheduler = new JobScheduler({
        owner,
        jobs: [job],
        log,
        messages,
        tenants: () => Promise.resolve(few),
        leaseMs: 2_000,
        tickMs: 50,
      });
      schedulers.push(scheduler);
      scheduler.start();
    }
    const finished = await eventually(
      async () => {
        const runs = (await log.list({ job: name, limit: 100 })).filter((r) => r.state === 'FINISHED');
        return runs.filter((r) => r.slot).length >= 5 && runs.some((r) => r.id === orphan.id) && runs;
      },
      { timeoutMs: 20_000, what: 'five scheduled runs and the orphan finished' },
    );
    await Promise.all(schedulers.map((s) => s.stop()));

    const slots = finished.filter((r) => r.slot).map((r) => r.slot!.toISOString());
    expect(new Set(slots).size).toBe(slots.length);
    for (const slot of slots) for (const tenant of few) expect(ran.get(`${slot}/${tenant}`)).toBe(1);
    expect([...ran.values()].every((n) => n === 1)).toBe(true);
    for (const run of finished) expect(['replica-a', 'replica-b']).toContain(run.owner);
    // The orphan: only the three tenants its dead driver had not finished were run.
    const orphanRuns = [...ran.keys()].filter((k) => k.startsWith(`${orphan.createdAt.toISOString()}/`));
    expect(orphanRuns.sort()).toEqual(
      few
        .slice(2)
        .map((t) => `${orphan.createdAt.toISOString()}/${t}`)
        .sort(),
    );
    expect(await log.get(orphan.id)).toMatchObject({ state: 'FINISHED', ok: 5, failed: 0 });
  }, 60_000);

  it('scheduler - a tenant without a database in a store the job needs is skipped, not failed', async () => {
    const few = tenants.slice(0, 4);
    const scheduler = new JobScheduler({
      owner: 'manual',
      jobs: [
        {
          name: `placement-${token}`,
          description: 'needs a store one tenant is not placed in',
          intervalMs: 60_000,
          tenantTimeoutMs: 5_000,
          concurrency: 2,
          run: async (tenant) => {
            if (tenant === few[1]) throw CatalogException.placementNotFound(parseTenantSlug(tenant), 'edge');
            if (tenant === few[2]) throw new Error('broken');
            return readTenantDatabase();
          },
        },
      ],
      log,
      messages,
      tenants: () => Promise.resolve(few),
      leaseMs: 5_000,
      tickMs: 0,
    });
    const report = await scheduler.runNow(`placement-${token}`);
    expect(report).toMatchObject({ state: 'FINISHED', ok: 2, skipped: 1, failed: 1 });
    expect(report.outcomes[1]).toMatchObject({ status: 'skipped', error: { code: 'SKIPPED' } });
    expect(report.outcomes[2]).toMatchObject({ status: 'failed', error: { message: 'broken' } });
  });
});
