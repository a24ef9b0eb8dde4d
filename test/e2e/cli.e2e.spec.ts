import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { NO_EXPIRY } from '#polystore/idempotency';
import { sagaStepKey } from '#polystore/saga';
import { DataSource } from 'typeorm';
import { SECURE_SCHEMA } from '../../apps/secure-store/src/secure.schema.js';
import { eventually } from '../support/eventually.js';
import { uniqueToken } from '../support/ids.js';
import { mariaQuery } from '../support/mariadb.js';
import { pgQuery } from '../support/pg.js';
import { TestServices } from '../support/services.js';
import { TestStack, type TestTenant } from '../support/stack.js';
import { tenantSql, type TenantPlacement } from '../support/tenant-data.js';
import { runCli } from '../support/cli.js';

const TENANTS = 30;
/** The newest secure-store migration: the one these tests "add" by undoing it everywhere. */
const NEWEST_SECURE_MIGRATION = 'SecureStepKeys1764209500000';

/**
 * The CLI (`npm run cli`) against a stack of its own (own system database): migrate over 30
 * tenants with failures and resumption, tenants and sagas commands, errors and exit codes.
 */
describe('cli - migrate, tenants, sagas (e2e, the real CLI process)', () => {
  const systemDb = `ps_sys_e2e_${uniqueToken(8)}`;
  let stack: TestStack;
  const tenants: TestTenant[] = [];
  /** Each tenant's secure placement (a schema in the shared database, by default), read once. */
  const secureData = new Map<string, TenantPlacement>();
  const secureOf = (t: TestTenant) => secureData.get(t.slug)!;

  const cliEnv = (extra: Record<string, string> = {}) =>
    stack.cliEnv({ INSTANCE_ID: `cli-${uniqueToken(4)}`, ...extra });

  /** Starts the CLI; `onStderr` sees its progress lines as they come. */
  function startCli(
    args: string[],
    extra: Record<string, string> = {},
    onStderr?: (text: string, kill: () => void) => void,
  ) {
    return runCli(args, cliEnv(extra), onStderr);
  }
  const cli = (...args: string[]) => startCli(args);

  /**
   * Takes the newest secure migration back out of every tenant's secure data: its schema (the
   * migrations table and the tables in it, the search path set to it) or its database. A few
   * tenants at a time, each on a DataSource of its own.
   */
  async function undoNewestSecureMigration(): Promise<void> {
    const queue = [...tenants];
    const worker = async () => {
      for (let t = queue.shift(); t; t = queue.shift()) await undoNewestSecureMigrationOf(t);
    };
    await Promise.all(Array.from({ length: 5 }, worker));
  }
  async function undoNewestSecureMigrationOf(t: TestTenant): Promise<void> {
    const url = new URL(TestServices.postgresUrl);
    const placement = secureOf(t);
    if (placement.schema !== undefined && !/^[a-z][a-z0-9_]{0,62}$/.test(placement.schema))
      throw new Error(`unexpected schema name ${placement.schema}`);
    const ds = new DataSource({
      type: 'postgres',
      host: url.hostname,
      port: Number(url.port || 5432),
      username: decodeURIComponent(url.username || 'root'),
      database: placement.database,
      // As the tenant's role, like the store's own migrations: a table a `down` makes again is the
      // tenant's, and the next `migrate` (bound to that role) may drop it.
      ...(placement.schema
        ? {
            schema: placement.schema,
            extra: { options: `-c search_path=${placement.schema} -c role=${placement.schema}` },
          }
        : {}),
      entities: SECURE_SCHEMA.entities,
      migrations: SECURE_SCHEMA.migrations,
      migrationsTableName: SECURE_SCHEMA.migrationsTableName,
    });
    await ds.initialize();
    try {
      await ds.undoLastMigration({ transaction: 'each' });
    } finally {
      await ds.destroy();
    }
  }
  const appliedEverywhere = async () => {
    for (const t of tenants) {
      const rows = await tenantSql(secureOf(t), 'SELECT 1 FROM secure_migrations WHERE name = $1', [
        NEWEST_SECURE_MIGRATION,
      ]);
      if (rows.length !== 1) return false;
    }
    return true;
  };

  beforeAll(async () => {
    const systemUrl = new URL(TestServices.systemDbUrl);
    systemUrl.pathname = `/${systemDb}`;
    stack = await TestStack.start({
      apps: ['secure-store', 'reliable-store', 'gateway'],
      parallelStart: true,
      env: { SYSTEM_DB_URL: systemUrl.toString() },
    });
    for (let i = 0; i < TENANTS; i += 6)
      tenants.push(
        ...(await Promise.all(Array.from({ length: Math.min(6, TENANTS - i) }, () => stack.createTenant()))),
      );
    await Promise.all(tenants.map(async (t) => secureData.set(t.slug, await stack.placement(t.slug, 'secure'))));
  }, 180_000);

  afterAll(async () => {
    await stack?.close(); // deletes the 30 tenants, a few at a time
    await pgQuery(`DROP DATABASE IF EXISTS "${systemDb}" WITH (FORCE)`);
  }, 120_000);

  it('migrate - every tenant current: a second run does nothing and says so, exit 0', async () => {
    const result = await cli('migrate', '--store', 'all', '--tenants', 'all', '--concurrency', '4');
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout).toContain(`${TENANTS} ok, 0 failed, 0 skipped of ${TENANTS} tenants`);
    expect(result.stdout).toContain('nothing to do: every tenant database is current (secure, reliable, edge)');
    expect(result.stderr).toContain(`migrate: ${TENANTS}/${TENANTS} done`);
  }, 120_000);

  it('migrate - migrations added to the secure store reach every tenant database (dry run first), then nothing is left', async () => {
    // The two newest, undone: the saga steps' keys in `idempotency_keys`, then the credential history.
    await undoNewestSecureMigration();
    await undoNewestSecureMigration();
    expect(await appliedEverywhere()).toBe(false);
    // Undone, the participant fence has its own `saga_inbox` again; a step recorded there by the
    // earlier version (done, with its result) must come through the migration.
    const hasInbox = async (t: TestTenant) =>
      (await tenantSql(secureOf(t), "SELECT to_regclass('saga_inbox') IS NOT NULL AS ok"))[0] as { ok: boolean };
    expect(await hasInbox(tenants[0]!)).toEqual({ ok: true });
    const earlierStep = { sagaId: crypto.randomUUID(), step: 'credential', result: '{"generation":1}' };
    await tenantSql(
      secureOf(tenants[0]!),
      "INSERT INTO saga_inbox (saga_id, step, state, result, updated_at) VALUES ($1, $2, 'done', $3, now())",
      [earlierStep.sagaId, earlierStep.step, earlierStep.result],
    );
    // The second newest makes `device_credentials` a history (a row per generation, `revoked_at`); undone, it is not.
    const isHistory = async (t: TestTenant) => {
      const placement = secureOf(t);
      const rows = await tenantSql(
        placement,
        "SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'device_credentials' AND column_name = 'revoked_at'",
        [placement.schema],
      );
      return rows.length === 1;
    };
    expect(await isHistory(tenants[0]!)).toBe(false);

    const dry = await cli('migrate', '--store', 'secure', '--dry-run', '--json');
    expect(dry).toMatchObject({ code: 0 });
    const dryReport = JSON.parse(dry.stdout);
    expect(dryReport).toMatchObject({ ok: TENANTS, failed: 0, migrationsPending: 2 * TENANTS, migrationsApplied: 0 });
    const noneApplied = await tenantSql(secureOf(tenants[0]!), 'SELECT 1 FROM secure_migrations WHERE name = $1', [
      NEWEST_SECURE_MIGRATION,
    ]);
    expect(noneApplied).toHaveLength(0);

    const run = await cli('migrate', '--store', 'secure', '--json');
    expect(run).toMatchObject({ code: 0 });
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ total: TENANTS, ok: TENANTS, failed: 0, migrationsApplied: 2 * TENANTS });
    for (const outcome of report.outcomes)
      expect(outcome.result).toEqual([
        { store: 'secure', applied: ['SecureCredentialLedger1764209400000', NEWEST_SECURE_MIGRATION] },
      ]);
    expect(await appliedEverywhere()).toBe(true);
    for (const t of tenants.slice(0, 3)) {
      expect(await isHistory(t)).toBe(true);
      expect(await hasInbox(t)).toEqual({ ok: false });
    }
    const moved = await tenantSql(
      secureOf(tenants[0]!),
      'SELECT state, result, expires_at FROM idempotency_keys WHERE idem_key = $1',
      [sagaStepKey(earlierStep.sagaId, earlierStep.step)],
    );
    expect(moved).toEqual([{ state: 'done', result: earlierStep.result, expires_at: NO_EXPIRY }]);

    const again = await cli('migrate', '--store', 'secure');
    expect(again).toMatchObject({ code: 0 });
    expect(again.stdout).toContain('nothing to do: every tenant database is current (secure)');
  }, 180_000);

  it('migrate - killed (SIGKILL) halfway, the next run resumes it without repeating the finished tenants', async () => {
    await undoNewestSecureMigration();
    const lease = { JOB_LEASE_MS: '1000' };
    const killed = await startCli(['migrate', '--store', 'secure', '--concurrency', '1'], lease, (stderr, kill) => {
      if (stderr.includes('migrate: 10/30 done')) kill();
    });
    expect(killed.code).toBeNull();
    const [run] = await pgQuery<{ id: string; ok: number }>(
      `SELECT id FROM job_runs WHERE job = 'migrate' AND state = 'RUNNING'`,
      [],
      systemDb,
    );
    expect(run).toBeDefined();
    const finishedBefore = await pgQuery<{ tenant: string; finished_at: Date }>(
      'SELECT tenant, finished_at FROM job_run_tenants WHERE run_id = $1',
      [run!.id],
      systemDb,
    );
    expect(finishedBefore.length).toBeGreaterThanOrEqual(10);
    expect(finishedBefore.length).toBeLessThan(TENANTS);
    // The killed CLI's lease runs out; then any run of the same migrate resumes it.
    await eventually(
      async () =>
        (await pgQuery('SELECT 1 FROM job_runs WHERE id = $1 AND lease_until < now()', [run!.id], systemDb)).length ===
        1,
      { what: 'the killed run lease to expire' },
    );

    const resumed = await cli('migrate', '--store', 'secure', '--json');
    expect(resumed).toMatchObject({ code: 0 });
    const report = JSON.parse(resumed.stdout);
    expect(report).toMatchObject({
      runId: run!.id,
      total: TENANTS,
      ok: TENANTS,
      failed: 0,
      resumed: finishedBefore.length,
    });
    const fromCheckpoint = report.outcomes
      .filter((o: { fromCheckpoint?: boolean }) => o.fromCheckpoint)
      .map((o: { tenant: string }) => o.tenant);
    expect(fromCheckpoint.sort()).toEqual(finishedBefore.map((r) => r.tenant).sort());
    // Finished tenants were not run again: their checkpoint rows are untouched.
    const after = await pgQuery<{ tenant: string; finished_at: Date }>(
      'SELECT tenant, finished_at FROM job_run_tenants WHERE run_id = $1',
      [run!.id],
      systemDb,
    );
    const afterByTenant = new Map(after.map((r) => [r.tenant, r.finished_at.getTime()]));
    for (const r of finishedBefore) expect(afterByTenant.get(r.tenant)).toBe(r.finished_at.getTime());
    expect(after).toHaveLength(TENANTS);
    expect(await appliedEverywhere()).toBe(true);
  }, 180_000);

  it('migrate - 30 tenants, one reliable database dropped by hand: that tenant reported failed with its error, 29 ok, exit 1', async () => {
    const broken = tenants[13]!;
    // Its reliable placement is a database of its own on MariaDB: dropped by its catalog name.
    const placement = await stack.placement(broken.slug, 'reliable');
    expect(placement.kind).toBe('database');
    expect(placement.database).toMatch(/^[a-z][a-z0-9_]{0,62}$/);
    await mariaQuery(`DROP DATABASE \`${placement.database}\``);
    const result = await cli('migrate', '--store', 'all', '--json', '--fresh');
    expect(result).toMatchObject({ code: 1 });
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ total: TENANTS, ok: TENANTS - 1, failed: 1 });
    const failed = report.outcomes.filter((o: { status: string }) => o.status === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0].tenant).toBe(broken.slug);
    expect(failed[0].error.message).toMatch(/^reliable: /);

    const human = await cli('migrate', '--store', 'reliable', '--fresh');
    expect(human).toMatchObject({ code: 1 });
    expect(human.stdout).toContain(`FAILED ${broken.slug} failed`);
  }, 180_000);

  it('tenants - create, list and delete through the CLI; a bad slug is a usage error naming it (exit 2); the public port or the former GATEWAY_URL is an error naming the variable (exit 1)', async () => {
    const slug = `e2e-cli-${uniqueToken(6)}`;
    // Calls that do not depend on each other run side by side (each CLI run is a process of its own).
    const [created, bad, publicPort, formerName] = await Promise.all([
      cli('tenants', 'create', slug, '--json'),
      cli('tenants', 'create', 'Bad_Slug'),
      // Pointed at the gateway's public port, which has no admin API: an error naming the variable.
      startCli(['tenants', 'create', `${slug}-pub`], { GATEWAY_ADMIN_URL: `http://127.0.0.1:${stack.gatewayPort}` }),
      startCli(['tenants', 'list'], { GATEWAY_URL: `http://127.0.0.1:${stack.gatewayPort}` }),
    ]);
    expect(created).toMatchObject({ code: 0 });
    expect(JSON.parse(created.stdout)).toMatchObject({ slug, apiKey: expect.any(String) });

    const [list, duplicate] = await Promise.all([cli('tenants', 'list', '--json'), cli('tenants', 'create', slug)]);
    expect(list).toMatchObject({ code: 0 });
    const listed = JSON.parse(list.stdout).find((t: { slug: string }) => t.slug === slug);
    expect(listed).toMatchObject({ status: 'active' });
    expect(listed.placements.map((p: { store: string }) => p.store).sort()).toEqual(['reliable', 'secure']);
    // The default kinds: a schema in the shared database on PostgreSQL, a database on MariaDB.
    expect(
      Object.fromEntries(listed.placements.map((p: { store: string; kind: string }) => [p.store, p.kind])),
    ).toEqual({ secure: 'schema', reliable: 'database' });

    expect(bad).toMatchObject({ code: 2 });
    expect(bad.stderr).toContain('"Bad_Slug" is not a tenant slug');

    expect(publicPort).toMatchObject({ code: 1 });
    expect(publicPort.stderr).toContain("GATEWAY_ADMIN_URL must be the gateway's admin port");
    expect(formerName).toMatchObject({ code: 1 });
    expect(formerName.stderr).toContain('GATEWAY_URL: renamed GATEWAY_ADMIN_URL');

    expect(duplicate).toMatchObject({ code: 2 });
    expect(duplicate.stderr).toMatch(/slug: .*TENANT_EXISTS|slug: .*exists/i);

    const deleted = await cli('tenants', 'delete', slug);
    expect(deleted).toMatchObject({ code: 0 });
    const listAfter = JSON.parse((await cli('tenants', 'list', '--json')).stdout);
    expect(listAfter.some((t: { slug: string }) => t.slug === slug)).toBe(false);
  }, 120_000);

  it('sagas - list shows the provisioning sagas; retry of an unknown saga is a usage error (exit 2)', async () => {
    // Three independent CLI runs, side by side.
    const [list, unknown, badState] = await Promise.all([
      cli('sagas', 'list', '--state', 'SUCCEEDED', '--json'),
      cli('sagas', 'retry', '00000000-0000-4000-8000-000000000000'),
      cli('sagas', 'list', '--state', 'NOPE'),
    ]);
    expect(list).toMatchObject({ code: 0 });
    const sagas = JSON.parse(list.stdout) as Array<{ name: string; tenant: string }>;
    const provisioned = new Set(sagas.filter((s) => s.name === 'tenant-provisioning').map((s) => s.tenant));
    for (const t of tenants) expect(provisioned.has(t.slug)).toBe(true);

    expect(unknown).toMatchObject({ code: 2 });
    expect(unknown.stderr).toMatch(/^error: id: /m);

    expect(badState).toMatchObject({ code: 2 });
    expect(badState.stderr).toContain('state must be one of');
  }, 60_000);
});
