import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  CatalogAdminService,
  CatalogService,
  ensureStoreCatalogLogins,
  grantStoreCatalogLogins,
  openSystemDatabase,
  storeCatalogLogin,
  type CatalogOptions,
  type StoreName,
} from '#polystore/catalog';
import { connectNats, MessageClient } from '#polystore/messaging';
import { parseTenantSlug } from '#polystore/tenancy';
import pg from 'pg';
import type { DataSource, MigrationInterface } from 'typeorm';
import { testContextSigner } from '../../../test/support/context-keys.js';
import { eventually } from '../../../test/support/eventually.js';
import { uniqueToken } from '../../../test/support/ids.js';
import { pgQuery } from '../../../test/support/pg.js';
import { PrivatePostgres } from '../../../test/support/postgres-server.js';
import { TestServices } from '../../../test/support/services.js';

/** A catalog migration no owner ever applied: a store expecting it must wait, then give up. */
class CatalogNotYetReleased9999999999999 implements MigrationInterface {
  name = 'CatalogNotYetReleased9999999999999';
  async up(): Promise<void> {}
  async down(): Promise<void> {}
}

/**
 * The stores' own catalog logins (`ps_<store>_catalog`, made by `polystore db-roles`) on the real
 * PostgreSQL server: a store never creates or migrates the catalog, waits until its owner did,
 * and then reads the tenants, its own placements only, and writes nothing but what its manifest
 * lists.
 */
describe('store catalog logins - each store reads only its part of the catalog', () => {
  const database = `polystore_test_storelogins_${uniqueToken(6)}`;
  const keys: Record<StoreName, Buffer> = {
    secure: randomBytes(32),
    reliable: randomBytes(32),
    edge: randomBytes(32),
  };
  const urlOf = (login: string) => {
    const url = new URL(TestServices.postgresUrl);
    url.username = login;
    url.pathname = `/${database}`;
    return url.toString();
  };
  const openAs = (store: StoreName, extra: { waitMs?: number; extraMigrations?: Array<new () => unknown> } = {}) =>
    openSystemDatabase({
      url: urlOf(`ps_${store}_catalog`),
      poolSize: 2,
      applicationName: `${database}:${store}`,
      store: { name: store, key: keys[store] },
      ...extra,
    });
  const opened: DataSource[] = [];
  let owner: DataSource;
  let nc: NatsConnection;
  let tenantId: string;

  beforeAll(async () => {
    // What `db-roles` leaves on a fresh install: the database, the logins, no tables yet.
    await pgQuery(`CREATE DATABASE "${database}"`);
    await ensureStoreCatalogLogins(
      TestServices.postgresUrl,
      database,
      (Object.keys(keys) as StoreName[]).map((store) => storeCatalogLogin(store, keys[store])),
    );
    nc = await connectNats({ url: TestServices.natsUrl, name: 'store-catalog-logins-test' });
  });

  afterAll(async () => {
    await Promise.all(opened.filter((ds) => ds.isInitialized).map((ds) => ds.destroy()));
    await nc?.close();
    await pgQuery(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  });

  it('store catalog logins - a store waits for the catalog its owner migrates, and never creates a table', async () => {
    let ready = false;
    const edge = openAs('edge').then((ds) => {
      ready = true;
      return ds;
    });
    // Connected and waiting: its session is there, and it has not returned.
    await eventually(
      async () =>
        (
          await pgQuery('SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND usename = $2', [
            `${database}:edge`,
            'ps_edge_catalog',
          ])
        ).length > 0,
      { timeoutMs: 10_000, what: "the edge store's waiting session" },
    );
    expect(ready).toBe(false);
    expect(await pgQuery(`SELECT to_regclass('public.tenants') AS t`, [], database)).toEqual([{ t: null }]);

    owner = await openSystemDatabase({ url: urlOf('root'), poolSize: 2, applicationName: `${database}:owner` });
    opened.push(owner, await edge);
    expect(ready).toBe(true);
    const tables = await pgQuery<{ tableowner: string }>(
      `SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'`,
      [],
      database,
    );
    expect(tables).toEqual([{ tableowner: 'root' }]);
  });

  it("store catalog logins - a store reads the tenants and its own placements, never another store's", async () => {
    tenantId = (
      await owner.query(
        `INSERT INTO tenants (id, slug, name, status, key_label, version)
         VALUES (gen_random_uuid(), 'acme', 'Acme', 'active', 'k1', 1) RETURNING id`,
      )
    )[0].id;
    for (const store of ['secure', 'reliable', 'edge'])
      await owner.query(
        `INSERT INTO placements (tenant_id, store, server_url, database_name, kind, version)
         VALUES ($1, $2, 'postgres://root@127.0.0.1:5432', $3, 'database', 1)`,
        [tenantId, store, `ps_${store}_acme`],
      );
    const edgeDb = opened[1]!;
    const options: CatalogOptions = {
      systemDbUrl: urlOf('ps_edge_catalog'),
      keys: { storeKeys: { edge: keys.edge } },
      cacheTtlMs: 60_000,
      negativeCacheTtlMs: 0,
      poolSize: 2,
      applicationName: 'store-catalog-logins-test',
    };
    const messages = new MessageClient(nc, {
      subjectPrefix: `scl${uniqueToken(4)}`,
      defaultTimeoutMs: 2_000,
      signer: testContextSigner,
    });
    const catalog = new CatalogService(edgeDb, options, messages);
    const acme = parseTenantSlug('acme');
    await expect(catalog.requireActiveTenant(acme)).resolves.toMatchObject({ id: tenantId, status: 'active' });
    await expect(catalog.getPlacement(acme, 'edge')).resolves.toMatchObject({ database: 'ps_edge_acme' });
    // The secure placement is there (the owner sees three) but not for the edge store's login.
    await expect(catalog.getPlacement(acme, 'secure')).rejects.toMatchObject({ code: 'PLACEMENT_NOT_FOUND' });
    const listed = await new CatalogAdminService(edgeDb, options, catalog).listTenants();
    expect(listed.map((t) => t.placements.map((p) => p.store))).toEqual([['edge']]);
    expect(await owner.query('SELECT count(*)::int AS n FROM placements')).toEqual([{ n: 3 }]);
  });

  it('store catalog logins - a store cannot write the catalog, read API keys or the provisioning logins kept for placements, or create a table (the test can fail)', async () => {
    const edgeDb = opened[1]!;
    for (const sql of [
      `UPDATE placements SET server_url = 'postgres://intruder@evil.example:5432'`,
      `UPDATE tenants SET status = 'active'`,
      `DELETE FROM tenants`,
      'SELECT count(*) FROM api_keys',
      'SELECT count(*) FROM placement_provisioners',
      `INSERT INTO audit_checkpoints (tenant_id, seq, head_hash, at, key_version, signature)
       VALUES ('${tenantId}', 1, '\\x00', now(), 1, '\\x00')`,
      'CREATE TABLE public.intruder (id int)',
    ])
      await expect(edgeDb.query(sql)).rejects.toMatchObject({ driverError: { code: '42501' } });
    expect(await owner.query(`SELECT server_url FROM placements WHERE store = 'edge'`)).toEqual([
      { server_url: 'postgres://root@127.0.0.1:5432' },
    ]);
  });

  it('store catalog logins - the secure store writes its audit checkpoints and nothing else', async () => {
    const secure = await openAs('secure');
    opened.push(secure);
    await secure.query(
      `INSERT INTO audit_checkpoints (tenant_id, seq, head_hash, at, key_version, signature)
       VALUES ($1, 1, $2, now(), 1, $2)`,
      [tenantId, Buffer.alloc(32, 1)],
    );
    const moved = await secure.query(`UPDATE audit_checkpoints SET seq = 2 WHERE tenant_id = $1 RETURNING seq`, [
      tenantId,
    ]);
    expect(moved[0]).toEqual([{ seq: '2' }]);
    await expect(secure.query('DELETE FROM audit_checkpoints')).rejects.toMatchObject({
      driverError: { code: '42501' },
    });
    await expect(secure.query(`UPDATE placements SET version = 2`)).rejects.toMatchObject({
      driverError: { code: '42501' },
    });
    expect((await secure.query('SELECT store FROM placements')).map((r: { store: string }) => r.store)).toEqual([
      'secure',
    ]);
  });

  it('store catalog logins - a store expecting a migration nobody applied waits, then names it', async () => {
    await expect(
      openAs('reliable', { waitMs: 1_500, extraMigrations: [CatalogNotYetReleased9999999999999] }),
    ).rejects.toThrow(
      /not ready for ps_reliable_catalog after 1500 ms: catalog migrations not applied yet: CatalogNotYetReleased9999999999999/,
    );
  });

  it('store catalog logins - granting again changes nothing and takes no lock that waits on readers or writers', async () => {
    const client = new pg.Client({ connectionString: urlOf('root') });
    await client.connect();
    try {
      // A writer holds placements; enabling row-level security again would wait on it.
      await client.query('BEGIN');
      await client.query(`UPDATE placements SET version = version WHERE store = 'edge'`);
      await expect(grantStoreCatalogLogins(owner)).resolves.toEqual(['edge', 'reliable', 'secure']);
      await client.query('ROLLBACK');
    } finally {
      await client.end();
    }
    const policies = await owner.query(
      `SELECT polname, pg_get_expr(polqual, polrelid) AS qual FROM pg_policy WHERE polrelid = 'placements'::regclass ORDER BY polname`,
    );
    expect(policies).toEqual([
      { polname: 'ps_edge_catalog', qual: "((store)::text = 'edge'::text)" },
      { polname: 'ps_reliable_catalog', qual: "((store)::text = 'reliable'::text)" },
      { polname: 'ps_secure_catalog', qual: "((store)::text = 'secure'::text)" },
    ]);
  });
});

/**
 * On a server that checks passwords (a private PostgreSQL with `scram-sha-256`; the shared test
 * server trusts loopback logins): the password a store derives from its key is the one `db-roles`
 * set, and a store holding another key is refused at once, not after its wait.
 */
describe('store catalog logins - the password derives from the store key', () => {
  const key = randomBytes(32);
  const database = 'polystore_system';
  let server: PrivatePostgres;
  const opened: DataSource[] = [];
  const openEdge = (storeKey: Buffer) =>
    openSystemDatabase({
      url: `postgres://ps_edge_catalog@127.0.0.1:${server.port}/${database}`,
      poolSize: 1,
      applicationName: 'store-catalog-password-test',
      store: { name: 'edge', key: storeKey },
      waitMs: 60_000,
    });

  beforeAll(async () => {
    server = await PrivatePostgres.create({ checkPasswords: true });
    opened.push(await openSystemDatabase({ url: `${server.url}/${database}`, poolSize: 1, applicationName: 'owner' }));
    await ensureStoreCatalogLogins(server.url, database, [storeCatalogLogin('edge', key)]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(opened.filter((ds) => ds.isInitialized).map((ds) => ds.destroy()));
    server?.destroy();
  });

  it('store catalog logins - the store key logs in; another key is refused at once, naming db-roles', async () => {
    const edge = await openEdge(key);
    opened.push(edge);
    expect(await edge.query('SELECT current_user AS login')).toEqual([{ login: 'ps_edge_catalog' }]);
    const started = Date.now();
    await expect(openEdge(randomBytes(32))).rejects.toThrow(
      /ps_edge_catalog cannot log in or read the catalog \(28P01\); run `polystore db-roles`/,
    );
    // Refused, not waited out (its wait is 60 s).
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('store catalog logins - after a server restart, another replica opens at once on the rights left behind', async () => {
    server.stop();
    await server.start();
    const replica = await openEdge(key);
    opened.push(replica);
    expect(await replica.query('SELECT current_user AS login')).toEqual([{ login: 'ps_edge_catalog' }]);
    expect(await replica.query('SELECT count(*)::int AS n FROM tenants')).toEqual([{ n: 0 }]);
  });
});
