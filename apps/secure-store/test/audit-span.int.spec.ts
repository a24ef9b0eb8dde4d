import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openSystemDatabase, type CatalogService } from '#polystore/catalog';
import { DataSourceRouter, SchemaAdmin, type DataSourcePlacement } from '#polystore/data-router';
import { MasterKeyring, randomKey } from '#polystore/platform';
import { runtimeLogin } from '#polystore/runtime';
import { parseTenantSlug, runAsTenant, type TenantSlug } from '#polystore/tenancy';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { uniqueToken } from '../../../test/support/ids.js';
import { dropDatabasesLike, pgQuery } from '../../../test/support/pg.js';
import { TestServices } from '../../../test/support/services.js';
import { AUDIT_APPENDER_ROLE } from '../src/audit/audit.repository.js';
import { TenantKeyRepository } from '../src/crypto/tenant-key.repository.js';
import { TenantKeyring } from '../src/crypto/tenant-keyring.service.js';
import { TenantKeyWrapper } from '../src/crypto/tenant-key-wrap.util.js';
import { SECURE_SCHEMA } from '../src/secure.schema.js';
import { auditCatalogOf, auditProcessOf, type AuditProcess } from './audit-harness.js';

/**
 * The audit appends of many tenants in one statement (schema placements of one shared database),
 * on the real PostgreSQL: the store's login and its batch role as provisioning makes them, the
 * secure store's migrations (which grant the batch role the audit appends), its real AuditLog.
 */
const ring = MasterKeyring.single(Buffer.alloc(32, 41));
const run = uniqueToken(6);
const database = `ps_rt_${run}_audit_span`;
const schemaOf = (tenant: string) => `ps_rt${run}_${tenant.replace(/-/g, '_')}`;
/** A login of this run's own, member of the store's real batch role (which the migration names). */
const login = { username: `ps_rt${run}_runtime`, password: `pw_${uniqueToken(20)}`, batchRole: AUDIT_APPENDER_ROLE };

const inTenant = <T>(tenant: TenantSlug, work: () => Promise<T>) => runAsTenant(tenant, work, 60_000);
/** SQL in the shared database as the server's superuser (what an operator, or an intruder, can do). */
const sharedSql = <R extends pg.QueryResultRow>(text: string, params: unknown[] = []) =>
  pgQuery<R>(text, params, database);

interface SpanProcess extends AuditProcess {
  readonly router: DataSourceRouter;
  /** Units of work its shared pool has served so far. */
  units(): number;
}

describe('secure-store - audit appends spanning the tenants of a shared database (real PostgreSQL)', () => {
  let db: DataSource;
  let catalog: CatalogService;
  const tenantIds = new Map<string, string>();
  const tenants: TenantSlug[] = [];
  const processes: SpanProcess[] = [];

  const placementOf = (tenant: TenantSlug): DataSourcePlacement => ({
    tenant,
    serverUrl: TestServices.postgresUrl,
    database,
    kind: 'schema',
    schema: schemaOf(tenant),
    version: 1,
  });

  /** One secure-store "process": its own router (one shared pool), keyring, audit log. */
  function startProcess(): SpanProcess {
    const router = new DataSourceRouter({
      name: `audit-span-${run}`,
      resolvePlacement: (tenant) => Promise.resolve(placementOf(tenant)),
      schema: SECURE_SCHEMA,
      poolSize: 2,
      connectionBudget: 20,
      sharedPoolSize: 8,
      sharedLogin: () => login,
      idleTtlMs: 60_000,
      maxWaiters: 5_000,
      acquireTimeoutMs: 20_000,
      breaker: { consecutiveFailures: 1_000, halfOpenAfterMs: 1 },
      applicationName: `audit-span-${run}`,
    });
    const p: SpanProcess = {
      ...auditProcessOf(router, db, catalog, ring),
      router,
      units: () => router.stats().sharedPools.reduce((n, pool) => n + pool.units, 0),
    };
    processes.push(p);
    return p;
  }

  /** A tenant with its schema provisioned and migrated as the store does it, and its data key. */
  async function newTenant(name: string, p: SpanProcess): Promise<TenantSlug> {
    const tenant = parseTenantSlug(`as-${name}-${uniqueToken(4)}`);
    const id = randomUUID();
    await db.query(`INSERT INTO tenants (id, slug, name, status, key_label) VALUES ($1, $2, $3, 'active', $2)`, [
      id,
      tenant,
      name,
    ]);
    tenantIds.set(tenant, id);
    tenants.push(tenant);
    await SchemaAdmin.ensureTenantSchema(TestServices.postgresUrl, database, schemaOf(tenant), login);
    await inTenant(tenant, async () => {
      await p.router.migrate();
      const { wrappedKey, kekVersion } = new TenantKeyWrapper(ring).wrap(tenant, 1, randomKey());
      await new TenantKeyRepository(p.router).insertFirst(wrappedKey, kekVersion);
    });
    return tenant;
  }

  const read = (p: SpanProcess, tenant: TenantSlug) =>
    inTenant(tenant, () => p.log.record({ action: 'customer.read', subjectId: null, outcome: 'ok' }));

  /** `perTenant` audited reads of every one of `of` at once, interleaved across tenants (as under load). */
  const readAll = (p: SpanProcess, of: readonly TenantSlug[], perTenant: number) =>
    Promise.all(Array.from({ length: perTenant }, () => of.map((tenant) => read(p, tenant))).flat());

  const verdictOf = (p: SpanProcess, tenant: TenantSlug) => inTenant(tenant, () => p.verifier.verify('full'));

  const recordCount = async (tenant: TenantSlug) =>
    Number(
      (await sharedSql<{ n: string }>(`SELECT count(*)::text AS n FROM "${schemaOf(tenant)}".audit_entries`))[0]!.n,
    );

  /** Every chain of `of` verifies in full and holds exactly `expected` records. */
  async function expectIntactChains(p: SpanProcess, of: readonly TenantSlug[], expected: number): Promise<void> {
    for (const tenant of of) {
      expect({ tenant, count: await recordCount(tenant) }).toEqual({ tenant, count: expected });
      await expect(verdictOf(p, tenant)).resolves.toMatchObject({ valid: true, checked: expected, headSeq: expected });
    }
  }

  beforeAll(async () => {
    db = await openSystemDatabase({
      url: TestServices.systemDbUrl,
      poolSize: 4,
      applicationName: `audit-span-int-${run}`,
    });
    catalog = auditCatalogOf(db);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.router.close()));
    for (const tenant of tenants)
      await SchemaAdmin.dropTenantSchema(TestServices.postgresUrl, database, schemaOf(tenant)).catch(() => undefined);
    await pgQuery(`DROP ROLE IF EXISTS "${login.username}"`).catch(() => undefined);
    if (db?.isInitialized) {
      await db.query('DELETE FROM tenants WHERE id = ANY($1::uuid[])', [[...tenantIds.values()]]);
      await db.destroy();
    }
    await dropDatabasesLike(database);
  }, 120_000);

  it('the batch role is the one the runtime login of every store names, and the one the migration grants', () => {
    expect(runtimeLogin('secure', randomKey()).batchRole).toBe(AUDIT_APPENDER_ROLE);
    expect(AUDIT_APPENDER_ROLE).toBe('ps_secure_batch');
  });

  it('reads of 24 tenants at once are appended in far fewer transactions than tenants, and every chain is whole', async () => {
    const p = startProcess();
    const mine: TenantSlug[] = [];
    for (let i = 0; i < 24; i++) mine.push(await newTenant(`many${i}`, p));
    // Warm: each tenant's data key and chain head read once (units of their own, not counted below).
    await readAll(p, mine, 1);
    const before = p.units();
    for (let round = 0; round < 5; round++) await readAll(p, mine, 4);
    const audits = p.units() - before;
    // 480 records of 24 tenants: one transaction per tenant per round would be at least 120.
    expect(audits).toBeLessThanOrEqual(20);
    await expectIntactChains(p, mine, 21);
  }, 120_000);

  it('the batch role reads nothing of a tenant but its chain head; the login alone reads nothing at all', async () => {
    const p = startProcess();
    const tenant = await newTenant('rights', p);
    const schema = schemaOf(tenant);
    const client = new pg.Client({
      host: new URL(TestServices.postgresUrl).hostname,
      port: Number(new URL(TestServices.postgresUrl).port || 5432),
      user: login.username,
      password: login.password,
      database,
    });
    await client.connect();
    try {
      for (const table of ['customers', 'customer_keys', 'tenant_keys', 'audit_entries', 'device_credentials']) {
        await expect(client.query(`SELECT * FROM "${schema}".${table}`)).rejects.toMatchObject({ code: '42501' });
      }
      await expect(client.query(`SELECT * FROM "${schema}".audit_head`)).rejects.toMatchObject({ code: '42501' });
      await client.query(`SET ROLE ${AUDIT_APPENDER_ROLE}`);
      for (const table of ['customers', 'customer_keys', 'tenant_keys', 'audit_entries', 'device_credentials']) {
        await expect(client.query(`SELECT * FROM "${schema}".${table}`)).rejects.toMatchObject({ code: '42501' });
      }
      await expect(client.query(`DELETE FROM "${schema}".audit_entries`)).rejects.toMatchObject({ code: '42501' });
      await expect(client.query(`UPDATE "${schema}".audit_entries SET outcome = 'x'`)).rejects.toMatchObject({
        code: '42501',
      });
      await expect(client.query(`SELECT seq FROM "${schema}".audit_head`)).resolves.toMatchObject({ rowCount: 1 });
    } finally {
      await client.end();
    }
  });

  it('two processes and mutations appending to the same tenants at once keep every chain whole, no record lost or doubled', async () => {
    const a = startProcess();
    const b = startProcess();
    const mine: TenantSlug[] = [];
    for (let i = 0; i < 8; i++) mine.push(await newTenant(`race${i}`, a));
    // Mutations append under a lock of the head, in transactions of their own, in between.
    const mutations = async () => {
      for (let i = 0; i < 10; i++) {
        for (const tenant of mine) {
          await inTenant(tenant, async () => {
            const keys = await new TenantKeyring(ring, new TenantKeyRepository(b.router), catalog).current();
            await b.router.transaction(async (manager) => {
              await b.log.appendInTransaction(manager, keys, [
                { action: 'customer.delete', subjectId: null, outcome: 'not_found' },
              ]);
              await manager.query('SELECT pg_sleep(0.002)');
            });
          });
        }
      }
    };
    await Promise.all([readAll(a, mine, 40), readAll(b, mine, 40), mutations()]);
    await expectIntactChains(a, mine, 40 + 40 + 10);
  }, 180_000);

  it('two processes auditing one hot tenant at once, with deletes in between: no read refused, one whole chain', async () => {
    const a = startProcess();
    const b = startProcess();
    const hot = await newTenant('hot', a);
    const deletes = async () => {
      // Each holds the head's lock for 30 ms: appends spanning tenants skip it meanwhile.
      for (let i = 0; i < 5; i++) {
        await inTenant(hot, async () => {
          const keys = await new TenantKeyring(ring, new TenantKeyRepository(b.router), catalog).current();
          await b.router.transaction(async (manager) => {
            await b.log.appendInTransaction(manager, keys, [
              { action: 'customer.delete', subjectId: null, outcome: 'ok' },
            ]);
            await manager.query('SELECT pg_sleep(0.03)');
          });
        });
      }
    };
    // Reads keep coming, 20 at a time per process, for as long as the deletes hold the head.
    let deleting = true;
    let reads = 0;
    const keepReading = async (p: SpanProcess) => {
      while (deleting) {
        await readAll(p, [hot], 20);
        reads += 20;
      }
    };
    const outcomes = await Promise.allSettled([
      keepReading(a),
      keepReading(b),
      deletes().finally(() => (deleting = false)),
    ]);
    expect(outcomes.filter((o) => o.status === 'rejected').map((o) => String(o.reason))).toEqual([]);
    // At least a wave of each process ran while the deletes held the head (the rest depends on the machine's speed).
    expect(reads).toBeGreaterThanOrEqual(40);
    await expectIntactChains(a, [hot], reads + 5);
  }, 120_000);

  it('a tenant whose schema lacks the grants (provisioned before the role) is appended on its own; the others still span', async () => {
    const p = startProcess();
    const granted = [await newTenant('granted1', p), await newTenant('granted2', p)];
    const old = await newTenant('old', p);
    await sharedSql(
      `REVOKE ALL ON "${schemaOf(old)}".audit_head, "${schemaOf(old)}".audit_entries FROM ${AUDIT_APPENDER_ROLE}`,
    );
    await readAll(p, [...granted, old], 30);
    await expectIntactChains(p, [...granted, old], 30);
  }, 120_000);

  it('a grant revoked, or a schema dropped, after this process found the tenant appendable: the others are still audited, the dropped tenant fails closed', async () => {
    const p = startProcess();
    const others = [await newTenant('keep1', p), await newTenant('keep2', p), await newTenant('keep3', p)];
    const revoked = await newTenant('revoked', p);
    const dropped = await newTenant('dropped', p);
    await readAll(p, [...others, revoked, dropped], 2);

    await sharedSql(`REVOKE ALL ON "${schemaOf(revoked)}".audit_entries FROM ${AUDIT_APPENDER_ROLE}`);
    await sharedSql(`DROP SCHEMA "${schemaOf(dropped)}" CASCADE`);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, () => [...others, revoked, dropped].map((tenant) => read(p, tenant))).flat(),
    );
    const failedOf = (tenant: TenantSlug) =>
      outcomes.filter((o, i) => i % 5 === [...others, revoked, dropped].indexOf(tenant) && o.status === 'rejected')
        .length;
    expect(failedOf(dropped)).toBe(10);
    for (const tenant of [...others, revoked])
      expect({ tenant, failed: failedOf(tenant) }).toEqual({ tenant, failed: 0 });
    await expectIntactChains(p, [...others, revoked], 12);
  }, 120_000);
});
