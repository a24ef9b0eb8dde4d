import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseTenantSlug, runAsTenant, type TenantSlug } from '#polystore/tenancy';
import {
  DataRouterErrorCode,
  DataSourceRouter,
  LANDING_DATABASE,
  SchemaAdmin,
  type DataSourcePlacement,
  type DataSourceRouterOptions,
} from '#polystore/data-router';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { eventually } from '../../../test/support/eventually.js';
import { uniqueToken } from '../../../test/support/ids.js';
import { mariaQuery } from '../../../test/support/mariadb.js';
import { pgQuery, sampleConnections } from '../../../test/support/pg.js';
import { TestServices } from '../../../test/support/services.js';

/**
 * Shared placements on the real servers: a schema per tenant in one PostgreSQL database, a
 * database per tenant on one MariaDB server, each served by one pool whatever the tenant count.
 */
const run = uniqueToken(6);
const tenantOf = (i: number) => parseTenantSlug(`t${i}`);
const TENANTS = 1_000;

class MarkerInit1764206100000 implements MigrationInterface {
  name = 'MarkerInit1764206100000';
  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE TABLE marker (tenant varchar(40) NOT NULL)');
    await q.query('CREATE TABLE notes (id int PRIMARY KEY, body varchar(100) NOT NULL)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE notes');
    await q.query('DROP TABLE marker');
  }
}
const SCHEMA = { entities: [], migrations: [MarkerInit1764206100000], migrationsTableName: 'test_migrations' };

const inTenant = <T>(tenant: TenantSlug, work: () => Promise<T>) => runAsTenant(tenant, work, 30_000);

function routerWith(
  resolve: (tenant: TenantSlug) => DataSourcePlacement,
  overrides: Partial<DataSourceRouterOptions> = {},
): { router: DataSourceRouter; app: string } {
  const app = `sp-${uniqueToken(10)}`;
  const router = new DataSourceRouter({
    name: 'shared-test',
    resolvePlacement: (tenant) => Promise.resolve(resolve(tenant)),
    schema: SCHEMA,
    poolSize: 2,
    connectionBudget: 20,
    sharedPoolSize: 8,
    idleTtlMs: 60_000,
    maxWaiters: 5_000,
    acquireTimeoutMs: 10_000,
    breaker: { consecutiveFailures: 3, halfOpenAfterMs: 300 },
    applicationName: app,
    ...overrides,
  });
  return { router, app };
}

/** Reads the tenant's marker; each tenant's schema/database holds its own slug only. */
const readMarker = (router: DataSourceRouter, tenant: TenantSlug) =>
  inTenant(tenant, () =>
    router.run(async (db) => await db.query<Array<{ tenant: string }>>('SELECT tenant FROM marker')),
  );

/**
 * 50 concurrent clients read the marker of every one of `tenants` tenants twice; returns the
 * failures and every read that saw anything but exactly its own tenant's marker.
 */
async function readEveryTenantTwice(
  router: DataSourceRouter,
  tenants: number,
): Promise<{ failures: unknown[]; wrong: string[] }> {
  let next = 0;
  const wrong: string[] = [];
  const failures: unknown[] = [];
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      for (let n = next++; n < 2 * tenants; n = next++) {
        const tenant = tenantOf(n % tenants);
        try {
          const rows = await readMarker(router, tenant);
          if (rows.length !== 1 || rows[0]!.tenant !== tenant) wrong.push(`${tenant}: ${JSON.stringify(rows)}`);
        } catch (error) {
          failures.push(error);
        }
      }
    }),
  );
  return { failures, wrong };
}

describe('data-router - schema placements (real PostgreSQL)', () => {
  const database = `ps_rt_${run}_shared`;
  const login = { username: `ps_rt${run}_runtime`, password: `pw_${uniqueToken(20)}` };
  const schemaOf = (tenant: string) => `ps_rt${run}_${tenant}`;
  const placementOf = (tenant: TenantSlug): DataSourcePlacement => ({
    tenant,
    serverUrl: TestServices.postgresUrl,
    database,
    kind: 'schema',
    schema: schemaOf(tenant),
    version: 1,
  });
  const sharedLogin = () => login;

  beforeAll(async () => {
    // The first tenant through the real provisioning path (database, runtime role, tenant role, schema).
    await SchemaAdmin.ensureTenantSchema(TestServices.postgresUrl, database, schemaOf('t0'), login);
    // The other 999 in one batch of the same statements, so the suite stays fast.
    const statements: string[] = [];
    for (let i = 1; i < TENANTS; i++) {
      const name = schemaOf(`t${i}`);
      statements.push(
        `CREATE ROLE "${name}" NOLOGIN`,
        `GRANT "${name}" TO "${login.username}"`,
        `CREATE SCHEMA "${name}" AUTHORIZATION "${name}"`,
        `SET ROLE "${name}"`,
        `CREATE TABLE "${name}".marker (tenant varchar(40) NOT NULL)`,
        `INSERT INTO "${name}".marker VALUES ('t${i}')`,
        `CREATE TABLE "${name}".notes (id int PRIMARY KEY, body varchar(100) NOT NULL)`,
        'RESET ROLE',
      );
    }
    await pgQuery(statements.join(';\n'), [], database);
    // Two tenants with a database of their own on the same server (own pools beside the shared one).
    for (const own of ['own1', 'own2']) {
      await pgQuery(`CREATE DATABASE "ps_rt_${run}_${own}"`);
      await pgQuery(
        `CREATE TABLE marker (tenant varchar(40) NOT NULL); INSERT INTO marker VALUES ('${own}')`,
        [],
        `ps_rt_${run}_${own}`,
      );
    }
    const { router } = routerWith(placementOf, { sharedLogin });
    try {
      const report = await inTenant(tenantOf(0), () => router.migrate());
      expect(report.applied).toEqual(['MarkerInit1764206100000']);
      await inTenant(tenantOf(0), () => router.run((db) => db.query("INSERT INTO marker VALUES ('t0')")));
    } finally {
      await router.close();
    }
  }, 300_000);

  afterAll(async () => {
    await pgQuery(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    for (const own of ['own1', 'own2']) await pgQuery(`DROP DATABASE IF EXISTS "ps_rt_${run}_${own}" WITH (FORCE)`);
    const roles = await pgQuery<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname LIKE $1', [
      `ps\\_rt${run}\\_%`,
    ]);
    for (let i = 0; i < roles.length; i += 200)
      await pgQuery(
        roles
          .slice(i, i + 200)
          .map((r) => `DROP ROLE IF EXISTS "${r.rolname}"`)
          .join(';'),
      );
  }, 300_000);

  it('data-router - 1,000 schema tenants on one pool: 0 errors, 0 cross-tenant reads, connections within the budget', async () => {
    const { router, app } = routerWith(placementOf, { sharedLogin, sharedPoolSize: 10, tenantCap: 5 });
    const sampler = sampleConnections(app);
    let peak: number;
    try {
      const { failures, wrong } = await readEveryTenantTwice(router, TENANTS);
      expect(failures).toEqual([]);
      expect(wrong).toEqual([]);
      const stats = router.stats();
      expect(stats.sharedPools).toHaveLength(1);
      expect(stats.sharedPools[0]!.units).toBe(2 * TENANTS);
      expect(stats.dataSources).toHaveLength(0);
    } finally {
      peak = await sampler.stop();
      await router.close();
    }
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(10);
  }, 180_000);

  it('data-router - a shared pool takes the budget only as its concurrency grows: own pools on the same server open beside it', async () => {
    const { router } = routerWith(
      (tenant) =>
        tenant.startsWith('own')
          ? {
              tenant,
              serverUrl: TestServices.postgresUrl,
              database: `ps_rt_${run}_${tenant}`,
              kind: 'database',
              version: 1,
            }
          : placementOf(tenant),
      { sharedLogin, budgetFor: () => 6, poolSize: 2, sharedPoolSize: 10 },
    );
    try {
      await expect(readMarker(router, tenantOf(1))).resolves.toEqual([{ tenant: 't1' }]);
      // At most the budget less one own pool (6 - 2), and so far only the one connection it used.
      expect(router.stats().sharedPools[0]).toMatchObject({ size: 4, reserved: 1 });
      // Two own pools of 2 and the shared pool's 1 fit the budget of 6 together: nobody waits, nothing is evicted.
      const slow = (tenant: TenantSlug) =>
        inTenant(tenant, () =>
          router.run((db) => db.query<Array<{ tenant: string }>>('SELECT pg_sleep(0.3), tenant FROM marker')),
        );
      const [one, two] = await Promise.all([slow(parseTenantSlug('own1')), slow(parseTenantSlug('own2'))]);
      expect([one[0]!.tenant, two[0]!.tenant]).toEqual(['own1', 'own2']);
      expect(router.stats().servers[0]).toMatchObject({
        connectionBudget: 6,
        live: 5,
        evictions: 0,
        busyRejections: 0,
      });
      expect(router.stats().dataSources).toHaveLength(2);
    } finally {
      await router.close();
    }
  });

  it('data-router - the runtime login reads nothing without the binding (fails closed)', async () => {
    const pg = (await import('pg')).default;
    const url = new URL(TestServices.postgresUrl);
    const client = new pg.Client({
      host: url.hostname,
      port: Number(url.port || 5432),
      user: login.username,
      password: login.password,
      database,
    });
    await client.connect();
    try {
      await expect(client.query(`SELECT tenant FROM "${schemaOf('t1')}".marker`)).rejects.toMatchObject({
        code: '42501', // insufficient_privilege
      });
      // Bound to t2, it still cannot reach t1.
      await client.query('BEGIN');
      await client.query("SELECT set_config('role', $1, true), set_config('search_path', $1, true)", [schemaOf('t2')]);
      await expect(client.query(`SELECT tenant FROM "${schemaOf('t1')}".marker`)).rejects.toMatchObject({
        code: '42501',
      });
      await client.query('ROLLBACK');
    } finally {
      await client.end();
    }
  });

  it('data-router - after a handler throws mid-transaction, the next checkout for another tenant sees nothing of it', async () => {
    const { router } = routerWith(placementOf, { sharedLogin, sharedPoolSize: 1 });
    try {
      const pid = await inTenant(tenantOf(3), () =>
        router.run(async (db) => (await db.query<Array<{ pid: number }>>('SELECT pg_backend_pid() AS pid'))[0]!.pid),
      );
      await expect(
        inTenant(tenantOf(3), () =>
          router.run(async (db) => {
            await db.query("INSERT INTO notes VALUES (1, 'never committed')");
            await db.query(`SET search_path TO "${schemaOf('t4')}"`); // a session SET, left behind on purpose
            throw new Error('handler failed');
          }),
        ),
      ).rejects.toThrow('handler failed');
      const seen = await inTenant(tenantOf(5), () =>
        router.run(async (db) => {
          const [state] = await db.query<Array<{ pid: number; role: string; path: string }>>(
            "SELECT pg_backend_pid() AS pid, current_user AS role, current_setting('search_path') AS path",
          );
          const marker = await db.query<Array<{ tenant: string }>>('SELECT tenant FROM marker');
          return { ...state!, marker };
        }),
      );
      expect(seen.pid).toBe(pid); // the same connection, reused
      expect(seen).toMatchObject({ role: schemaOf('t5'), path: schemaOf('t5'), marker: [{ tenant: 't5' }] });
      const notes = await inTenant(tenantOf(3), () => router.run((db) => db.query('SELECT * FROM notes')));
      expect(notes).toEqual([]);
    } finally {
      await router.close();
    }
  });

  it('data-router - a binding that fails after BEGIN (a role that does not exist) leaves no open transaction behind', async () => {
    const ghost = parseTenantSlug('ghost');
    const { router } = routerWith(placementOf, {
      sharedLogin,
      sharedPoolSize: 1,
      breaker: { consecutiveFailures: 100, halfOpenAfterMs: 100 },
    });
    try {
      await expect(readMarker(router, ghost)).rejects.toMatchObject({ driverError: { code: '22023' } });
      // The same single connection, next: no "current transaction is aborted" (25P02), its own tenant only.
      await expect(readMarker(router, tenantOf(12))).resolves.toEqual([{ tenant: 't12' }]);
      expect(router.stats().sharedPools[0]!.discarded).toBe(0);
    } finally {
      await router.close();
    }
  });

  it('data-router - a timed-out query rolls back; the connection then serves another tenant cleanly', async () => {
    const { router } = routerWith(placementOf, { sharedLogin, sharedPoolSize: 1 });
    try {
      await expect(
        inTenant(tenantOf(6), () =>
          router.run(async (db) => {
            await db.query("INSERT INTO notes VALUES (1, 'timed out')");
            await db.query("SET LOCAL statement_timeout = '50ms'");
            return db.query('SELECT pg_sleep(2)');
          }),
        ),
      ).rejects.toMatchObject({ driverError: { code: '57014' } });
      await expect(readMarker(router, tenantOf(7))).resolves.toEqual([{ tenant: 't7' }]);
      const notes = await inTenant(tenantOf(6), () => router.run((db) => db.query('SELECT * FROM notes')));
      expect(notes).toEqual([]);
      expect(router.stats().sharedPools[0]!.discarded).toBe(0);
    } finally {
      await router.close();
    }
  });

  it('data-router - a killed backend is discarded, never reused; the next tenant gets a fresh, bound connection', async () => {
    const { router, app } = routerWith(placementOf, {
      sharedLogin,
      sharedPoolSize: 1,
      breaker: { consecutiveFailures: 100, halfOpenAfterMs: 100 },
    });
    try {
      const victim = inTenant(tenantOf(8), () =>
        router.run(async (db) => {
          await db.query("INSERT INTO notes VALUES (1, 'in flight when killed')");
          return db.query('SELECT pg_sleep(5)');
        }),
      );
      const pid = await eventually(
        async () =>
          (
            await pgQuery<{ pid: number }>(
              "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE '%pg_sleep(5)%'",
              [app],
            )
          )[0]?.pid,
        { what: 'the sleeping backend' },
      );
      await pgQuery('SELECT pg_terminate_backend($1)', [pid]);
      await expect(victim).rejects.toMatchObject({ code: DataRouterErrorCode.DATABASE_UNAVAILABLE });
      const seen = await inTenant(tenantOf(9), () =>
        router.run(async (db) => ({
          pid: (await db.query<Array<{ pid: number }>>('SELECT pg_backend_pid() AS pid'))[0]!.pid,
          marker: await db.query<Array<{ tenant: string }>>('SELECT tenant FROM marker'),
        })),
      );
      expect(seen.pid).not.toBe(pid);
      expect(seen.marker).toEqual([{ tenant: 't9' }]);
      await expect(inTenant(tenantOf(8), () => router.run((db) => db.query('SELECT * FROM notes')))).resolves.toEqual(
        [],
      );
      expect(router.stats().sharedPools[0]!.discarded).toBe(1);
    } finally {
      await router.close();
    }
  });

  it('data-router - a busy tenant is held to its cap and cannot starve another tenant', async () => {
    const { router } = routerWith(placementOf, { sharedLogin, sharedPoolSize: 4, tenantCap: 2 });
    try {
      let busyDone = 0;
      let maxInUse = 0;
      const flood = Array.from({ length: 20 }, () =>
        inTenant(tenantOf(10), () => router.run((db) => db.query('SELECT pg_sleep(0.1)'))).then(() => busyDone++),
      );
      await eventually(() => router.stats().sharedPools[0]?.inUse === 2, { what: 'the busy tenant at its cap' });
      const started = Date.now();
      const rows = await readMarker(router, tenantOf(11));
      const quietMs = Date.now() - started;
      maxInUse = router.stats().sharedPools[0]!.inUse;
      await Promise.all(flood);
      expect(rows).toEqual([{ tenant: 't11' }]);
      expect(busyDone).toBe(20);
      // The quiet tenant did not queue behind the flood's 20 x 100 ms / 2 = 1 s.
      expect(quietMs).toBeLessThan(500);
      expect(maxInUse).toBeLessThanOrEqual(3);
    } finally {
      await router.close();
    }
  });

  it('data-router - migrations run per schema, owned by the tenant role, once however many run at once', async () => {
    const tenant = parseTenantSlug('fresh');
    await SchemaAdmin.ensureTenantSchema(TestServices.postgresUrl, database, schemaOf('fresh'), login);
    const { router } = routerWith(placementOf, { sharedLogin });
    try {
      const reports = await Promise.all(Array.from({ length: 4 }, () => inTenant(tenant, () => router.migrate())));
      expect(reports.flatMap((r) => r.applied)).toEqual(['MarkerInit1764206100000']);
      await expect(inTenant(tenant, () => router.pendingMigrations())).resolves.toEqual([]);
      const tables = await pgQuery<{ tablename: string; tableowner: string }>(
        'SELECT tablename, tableowner FROM pg_tables WHERE schemaname = $1 ORDER BY tablename',
        [schemaOf('fresh')],
        database,
      );
      expect(tables).toEqual(
        ['marker', 'notes', 'test_migrations'].map((tablename) => ({ tablename, tableowner: schemaOf('fresh') })),
      );
      await expect(readMarker(router, tenant)).resolves.toEqual([]);
    } finally {
      await router.close();
    }
    await expect(SchemaAdmin.dropTenantSchema(TestServices.postgresUrl, database, schemaOf('fresh'))).resolves.toBe(
      true,
    );
    const left = await pgQuery('SELECT 1 FROM pg_roles WHERE rolname = $1', [schemaOf('fresh')]);
    expect(left).toEqual([]);
  });

  it('data-router - 16 tenants provisioned at once with a new runtime login and batch role: every schema made, no concurrent update of the login', async () => {
    // A login of its own: no provisioning of this process has made it current yet.
    const fresh = {
      username: `ps_rt${run}_login16`,
      password: `pw_${uniqueToken(20)}`,
      batchRole: `ps_rt${run}_batch16`,
    };
    const schemas = Array.from({ length: 16 }, (_, i) => schemaOf(`burst${i}`));
    const outcomes = await Promise.allSettled(
      schemas.map((schema) => SchemaAdmin.ensureTenantSchema(TestServices.postgresUrl, database, schema, fresh)),
    );
    expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
    expect(outcomes.map((o) => (o as PromiseFulfilledResult<boolean>).value)).toEqual(schemas.map(() => true));
    const members = await pgQuery<{ role: string }>(
      `SELECT r.rolname AS role FROM pg_auth_members m
         JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
        WHERE u.rolname = $1 ORDER BY 1`,
      [fresh.username],
    );
    expect(members.map((m) => m.role)).toEqual([fresh.batchRole, ...schemas].sort());
    // Dropped behind this process's back, the login is made again by the next provisioning.
    for (const schema of schemas) await SchemaAdmin.dropTenantSchema(TestServices.postgresUrl, database, schema);
    await pgQuery(`DROP ROLE "${fresh.username}"`);
    await expect(SchemaAdmin.ensureTenantSchema(TestServices.postgresUrl, database, schemas[0]!, fresh)).resolves.toBe(
      true,
    );
    await expect(
      pgQuery('SELECT rolcanlogin, rolinherit FROM pg_roles WHERE rolname = $1', [fresh.username]),
    ).resolves.toEqual([{ rolcanlogin: true, rolinherit: false }]);
    await SchemaAdmin.dropTenantSchema(TestServices.postgresUrl, database, schemas[0]!);
  });

  it('data-router - provisioning makes sure of the shared database once per process: one admin connection per schema, none left open; the database dropped behind the process is made again', async () => {
    const own = `ps_rt_${run}_admin`;
    const sessions = async () =>
      (await pgQuery<{ n: number }>('SELECT sessions::int AS n FROM pg_stat_database WHERE datname = $1', [own]))[0]
        ?.n ?? 0;
    try {
      for (let i = 0; i < 6; i++)
        await expect(
          SchemaAdmin.ensureTenantSchema(TestServices.postgresUrl, own, schemaOf(`adm${i}`), login),
        ).resolves.toBe(true);
      const admin = () =>
        pgQuery("SELECT 1 FROM pg_stat_activity WHERE application_name = 'polystore-admin' AND datname = $1", [own]);
      await expect(admin()).resolves.toEqual([]);
      // One session per provisioning (counted at connect, flushed at exit at the latest).
      await eventually(async () => (await sessions()) >= 6, { what: 'the sessions counted' });
      expect(await sessions()).toBe(6);

      await pgQuery(`DROP DATABASE "${own}" WITH (FORCE)`);
      await expect(
        SchemaAdmin.ensureTenantSchema(TestServices.postgresUrl, own, schemaOf('adm6'), login),
      ).resolves.toBe(true);
      await expect(
        pgQuery('SELECT nspname FROM pg_namespace WHERE nspname = $1', [schemaOf('adm6')], own),
      ).resolves.toEqual([{ nspname: schemaOf('adm6') }]);
    } finally {
      await pgQuery(`DROP DATABASE IF EXISTS "${own}" WITH (FORCE)`);
      for (let i = 0; i <= 6; i++) await pgQuery(`DROP ROLE IF EXISTS "${schemaOf(`adm${i}`)}"`);
    }
  });

  it("data-router - lanes: under saturation a tenant's units stay on its lane's backends (2 lanes of 4); one lane spreads them over all 8; never more connections than the pool", async () => {
    /** 50 clients read the backend's pid for 40 tenants, 30 times each: distinct backends per tenant, on average. */
    const backendsPerTenant = async (lanes: number) => {
      const { router, app } = routerWith(placementOf, { sharedLogin, sharedPoolLanes: lanes });
      const sampler = sampleConnections(app);
      const seen = new Map<string, Set<number>>();
      let next = 0;
      try {
        await Promise.all(
          Array.from({ length: 50 }, async () => {
            for (let n = next++; n < 40 * 30; n = next++) {
              const tenant = tenantOf(n % 40);
              const [row] = await inTenant(tenant, () =>
                router.run((db) => db.query<Array<{ pid: number }>>('SELECT pg_backend_pid() AS pid')),
              );
              const pids = seen.get(tenant) ?? new Set<number>();
              pids.add(row!.pid);
              seen.set(tenant, pids);
            }
          }),
        );
      } finally {
        await router.close();
      }
      const peak = await sampler.stop();
      expect(peak).toBeLessThanOrEqual(8);
      return [...seen.values()].reduce((n, pids) => n + pids.size, 0) / seen.size;
    };
    const oneLane = await backendsPerTenant(1);
    const twoLanes = await backendsPerTenant(2);
    process.stdout.write(`backends per tenant: one lane ${oneLane.toFixed(2)}, two lanes ${twoLanes.toFixed(2)}\n`);
    expect(oneLane).toBeGreaterThan(6);
    // A tenant's lane holds 4 backends; a unit may spill onto the other lane's idle ones, more so
    // on a loaded machine (5.08 once, in the full suite): well under the spread of one lane.
    expect(twoLanes).toBeLessThan(Math.min(6, oneLane - 2));
  }, 120_000);

  it('data-router - a tenant whose dedicated server is down fails fast and alone', async () => {
    const down = parseTenantSlug('down');
    const { router } = routerWith(
      (tenant) =>
        tenant === down
          ? { tenant, serverUrl: 'postgres://root@127.0.0.1:1', database: 'ps_down', kind: 'dedicated', version: 1 }
          : placementOf(tenant),
      { sharedLogin, connectTimeoutMs: 500 },
    );
    try {
      const results = await Promise.allSettled([
        ...Array.from({ length: 6 }, () => readMarker(router, down)),
        ...Array.from({ length: 30 }, (_, i) => readMarker(router, tenantOf(20 + i))),
      ]);
      const downResults = results.slice(0, 6);
      expect(downResults.every((r) => r.status === 'rejected')).toBe(true);
      for (const r of downResults)
        expect((r as PromiseRejectedResult).reason).toMatchObject({ code: DataRouterErrorCode.DATABASE_UNAVAILABLE });
      expect(results.slice(6).map((r) => (r.status === 'fulfilled' ? r.value[0]!.tenant : 'failed'))).toEqual(
        Array.from({ length: 30 }, (_, i) => `t${20 + i}`),
      );
    } finally {
      await router.close();
    }
  });
});

describe('data-router - database placements on one MariaDB pool (real MariaDB)', () => {
  const MARIA_TENANTS = 1_000;
  const databaseOf = (tenant: string) => `ps_rt${run}_${tenant}`;
  /**
   * A user of this suite's own, with rights on its databases and the landing database only: the
   * server's process list then shows this router's connections apart from every other process's
   * (other suites' stores rest in the same landing database).
   */
  const user = `ps_rt${run}`;
  const serverUrl = (() => {
    const url = new URL(TestServices.mariadbUrl);
    url.username = user;
    url.password = '';
    return url.toString().replace(/\/$/, '');
  })();
  const placementOf = (tenant: TenantSlug): DataSourcePlacement => ({
    tenant,
    serverUrl,
    database: databaseOf(tenant),
    kind: 'database',
    version: 1,
  });

  beforeAll(async () => {
    const grants = (host: string) => [
      `CREATE USER IF NOT EXISTS '${user}'@'${host}'`,
      `GRANT ALL ON \`ps\\_rt${run}\\_%\`.* TO '${user}'@'${host}'`,
      `GRANT ALL ON \`${LANDING_DATABASE}\`.* TO '${user}'@'${host}'`,
    ];
    await mariaMulti([...grants('localhost'), ...grants('127.0.0.1'), ...grants('%')]);
    for (let i = 0; i < MARIA_TENANTS; i += 100) {
      const statements: string[] = [];
      for (let j = i; j < Math.min(MARIA_TENANTS, i + 100); j++) {
        const db = databaseOf(`t${j}`);
        statements.push(
          `CREATE DATABASE \`${db}\``,
          `CREATE TABLE \`${db}\`.marker (tenant varchar(40) NOT NULL)`,
          `INSERT INTO \`${db}\`.marker VALUES ('t${j}')`,
          `CREATE TABLE \`${db}\`.notes (id int PRIMARY KEY, body varchar(100) NOT NULL)`,
        );
      }
      await mariaMulti(statements);
    }
  }, 300_000);

  afterAll(async () => {
    const rows = await mariaQuery<{ name: string }>(
      'SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name LIKE ?',
      [`ps\\_rt${run}\\_%`],
    );
    for (let i = 0; i < rows.length; i += 100)
      await mariaMulti(rows.slice(i, i + 100).map((r) => `DROP DATABASE IF EXISTS \`${r.name}\``));
    await mariaMulti(['localhost', '127.0.0.1', '%'].map((host) => `DROP USER IF EXISTS '${user}'@'${host}'`));
  }, 300_000);

  it('data-router - 1,000 database tenants on one MariaDB pool: 0 errors, 0 cross-tenant reads, within the budget, back in the landing database', async () => {
    const { router, app } = routerWith(placementOf, { sharedPoolSize: 10, tenantCap: 5 });
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        // This router's connections only (its own user), in one snapshot.
        const rows = await mariaQuery<{ n: number }>(
          'SELECT count(*) AS n FROM information_schema.PROCESSLIST WHERE user = ?',
          [user],
        );
        peak = Math.max(peak, Number(rows[0]!.n));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    try {
      const { failures, wrong } = await readEveryTenantTwice(router, MARIA_TENANTS);
      expect(failures).toEqual([]);
      expect(wrong).toEqual([]);
      expect(router.stats().sharedPools).toHaveLength(1);
      expect(router.stats().dataSources).toHaveLength(0);
      // Idle connections rest in the empty landing database, bound to no tenant.
      const idle = await mariaQuery<{ db: string | null }>(
        'SELECT db FROM information_schema.PROCESSLIST WHERE user = ?',
        [user],
      );
      expect(idle.length).toBeGreaterThan(0);
      expect(idle.every((row) => row.db === LANDING_DATABASE)).toBe(true);
    } finally {
      sampling = false;
      await sampler;
      await router.close();
    }
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(10);
    void app;
  }, 180_000);

  it('data-router - after a failed unit on MariaDB, the connection serves another tenant from its own database', async () => {
    const { router } = routerWith(placementOf, { sharedPoolSize: 1 });
    try {
      await expect(
        inTenant(tenantOf(1), () =>
          router.transaction(async (db) => {
            await db.query("INSERT INTO notes VALUES (1, 'never committed')");
            throw new Error('handler failed');
          }),
        ),
      ).rejects.toThrow('handler failed');
      await expect(readMarker(router, tenantOf(2))).resolves.toEqual([{ tenant: 't2' }]);
      await expect(inTenant(tenantOf(1), () => router.run((db) => db.query('SELECT * FROM notes')))).resolves.toEqual(
        [],
      );
    } finally {
      await router.close();
    }
  });

  it('data-router - the budget comes from the server: a share of max_connections minus a reserve', async () => {
    const [{ max }] = (await mariaQuery<{ max: number }>('SELECT @@max_connections AS max')) as [{ max: number }];
    const { router } = routerWith(placementOf, {
      connectionBudget: 10_000,
      sharedPoolSize: 10_000,
      serverShare: { share: 0.1, reserve: 10 },
    });
    try {
      await expect(readMarker(router, tenantOf(3))).resolves.toEqual([{ tenant: 't3' }]);
      const expected = Math.floor((Number(max) - 10) * 0.1);
      expect(router.stats().servers[0]!.connectionBudget).toBe(expected);
      // The shared pool leaves room for one own-pool placement (poolSize 2) on the server.
      expect(router.stats().sharedPools[0]!.size).toBe(expected - 2);
    } finally {
      await router.close();
    }
  });
});

/** Several statements on one MariaDB connection (multipleStatements). */
async function mariaMulti(statements: string[]): Promise<void> {
  const mysql = await import('mysql2/promise');
  const url = new URL(TestServices.mariadbUrl);
  const connection = await mysql.createConnection({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username || 'root'),
    password: url.password ? decodeURIComponent(url.password) : undefined,
    multipleStatements: true,
  });
  try {
    await connection.query(statements.join(';\n'));
  } finally {
    await connection.end();
  }
}
