import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  ApiKeyAdminService,
  CatalogAdminService,
  CatalogErrorCode,
  CatalogService,
  openSystemDatabase,
  ServerSecretBox,
  storeKeyOf,
  type CatalogOptions,
} from '#polystore/catalog';
import { deriveKey, seal } from '#polystore/platform';
import { connectNats, MessageClient } from '#polystore/messaging';
import { parseTenantSlug } from '#polystore/tenancy';
import type { DataSource } from 'typeorm';
import { eventually } from '../../../test/support/eventually.js';
import { uniqueToken } from '../../../test/support/ids.js';
import { pgQuery } from '../../../test/support/pg.js';
import { TestServices } from '../../../test/support/services.js';
import { testContextSigner } from '../../../test/support/context-keys.js';

/** One "process": its own NATS connection, catalog cache and admin service. */
interface Process {
  nc: NatsConnection;
  catalog: CatalogService;
  admin: CatalogAdminService;
  keys: ApiKeyAdminService;
}

describe('catalog - system database, cached reads, cross-process invalidation', () => {
  const prefix = `ct${uniqueToken(6)}`;
  const options: CatalogOptions = {
    systemDbUrl: TestServices.systemDbUrl,
    keys: { masterKey: Buffer.alloc(32, 3) },
    cacheTtlMs: 60_000,
    negativeCacheTtlMs: 60_000,
    poolSize: 2,
    applicationName: 'catalog-test',
  };
  let db: DataSource;
  let one: Process;
  let two: Process;

  async function process(): Promise<Process> {
    const nc = await connectNats({ url: TestServices.natsUrl, name: 'catalog-test' });
    const messages = new MessageClient(nc, {
      subjectPrefix: prefix,
      defaultTimeoutMs: 2_000,
      signer: testContextSigner,
    });
    const catalog = new CatalogService(db, options, messages);
    catalog.onModuleInit();
    await nc.flush();
    return {
      nc,
      catalog,
      admin: new CatalogAdminService(db, options, catalog),
      keys: new ApiKeyAdminService(db, catalog),
    };
  }

  const slug = (s: string) => parseTenantSlug(`e2e-${uniqueToken(6)}-${s}`);
  const placements = (tenant: string) => [
    {
      store: 'secure' as const,
      serverUrl: 'mysql://alice:s3cr%3At@10.1.2.3:6543',
      kind: 'database' as const,
      database: `ps_secure_${tenant.replace(/-/g, '_')}`,
    },
  ];

  beforeAll(async () => {
    db = await openSystemDatabase({ url: options.systemDbUrl, poolSize: 2, applicationName: 'catalog-test' });
    [one, two] = [await process(), await process()];
  });

  afterAll(async () => {
    for (const p of [one, two]) {
      p.catalog.onModuleDestroy();
      await p.nc.drain();
    }
    await db.destroy();
  });

  it('catalog - migrations are idempotent: a second open applies nothing and keeps the data', async () => {
    const again = await openSystemDatabase({
      url: options.systemDbUrl,
      poolSize: 1,
      applicationName: 'catalog-test-2',
    });
    const rows = await again.query('SELECT count(*)::int AS n FROM catalog_migrations');
    expect(rows[0].n).toBeGreaterThanOrEqual(1);
    await again.destroy();
  });

  it('catalog - a placement keeps its server password sealed, and resolves with it', async () => {
    const tenant = slug('seal');
    await one.admin.createTenant({ slug: tenant, name: 'Seal', placements: placements(tenant) });
    const raw = await pgQuery<{ server_url: string; secret: string }>(
      `SELECT p.server_url, encode(p.server_secret, 'hex') AS secret FROM placements p JOIN tenants t ON t.id = p.tenant_id WHERE t.slug = $1`,
      [tenant],
      'polystore_test_system',
    );
    expect(raw[0]!.server_url).toBe('mysql://alice@10.1.2.3:6543');
    expect(raw[0]!.secret).not.toContain(Buffer.from('s3cr:t').toString('hex'));
    const placement = await one.catalog.getPlacement(tenant, 'secure');
    expect(placement).toMatchObject({
      tenant,
      store: 'secure',
      database: `ps_secure_${tenant.replace(/-/g, '_')}`,
      version: 1,
      serverId: 'mysql://10.1.2.3:6543',
    });
    expect(new URL(placement.serverUrl).password).toBe(encodeURIComponent('s3cr:t'));
  });

  it('catalog - a store holding only its own key opens its placement; a password sealed before store keys is sealed again by a master-key holder, then opens there too', async () => {
    const tenant = slug('keys');
    const created = await one.admin.createTenant({ slug: tenant, name: 'Keys', placements: placements(tenant) });
    const storeOnly = new CatalogService(
      db,
      { ...options, keys: { storeKeys: { secure: storeKeyOf(options.keys.masterKey!, 'secure') } } },
      new MessageClient(one.nc, { subjectPrefix: prefix, defaultTimeoutMs: 2_000, signer: testContextSigner }),
    );
    expect(new URL((await storeOnly.getPlacement(tenant, 'secure')).serverUrl).password).toBe(
      encodeURIComponent('s3cr:t'),
    );
    // As an earlier version sealed it: with a key derived from the master key itself.
    const legacy = seal(
      deriveKey(options.keys.masterKey!, 'polystore/catalog/server-secret'),
      's3cr:t',
      `placement:${created.id}:secure`,
    );
    await pgQuery(
      'UPDATE placements SET server_secret = $1 WHERE tenant_id = $2',
      [legacy, created.id],
      'polystore_test_system',
    );
    const fresh = () =>
      new CatalogService(
        db,
        { ...options, keys: { storeKeys: { secure: storeKeyOf(options.keys.masterKey!, 'secure') } } },
        new MessageClient(one.nc, { subjectPrefix: prefix, defaultTimeoutMs: 2_000, signer: testContextSigner }),
      );
    await expect(fresh().getPlacement(tenant, 'secure')).rejects.toThrow();
    expect(await one.admin.resealLegacyServerSecrets()).toBeGreaterThanOrEqual(1);
    expect(await one.admin.resealLegacyServerSecrets()).toBe(0);
    expect(new URL((await fresh().getPlacement(tenant, 'secure')).serverUrl).password).toBe(
      encodeURIComponent('s3cr:t'),
    );
  });

  it('catalog - a database placement on PostgreSQL gets a login of its own: the store opens only that login, the provisioning login is kept apart, and both go with the tenant', async () => {
    const tenant = slug('ownlogin');
    const id = randomUUID();
    const database = `ps_secure_${id.replace(/-/g, '')}`;
    const login = `${database}_login`;
    const provisioning = new URL(TestServices.postgresUrl);
    provisioning.password = 'kept-apart'; // trust auth here: the password only has to be kept
    await one.admin.createTenant({
      id,
      slug: tenant,
      name: 'Own login',
      placements: [{ store: 'secure', serverUrl: provisioning.toString(), kind: 'database', database }],
    });
    const [placement] = await pgQuery<{ server_url: string }>(
      'SELECT server_url FROM placements WHERE tenant_id = $1',
      [id],
      'polystore_test_system',
    );
    expect(new URL(placement!.server_url).username).toBe(login);
    const [kept] = await pgQuery<{ server_url: string; secret: string }>(
      `SELECT server_url, encode(server_secret, 'hex') AS secret FROM placement_provisioners WHERE tenant_id = $1`,
      [id],
      'polystore_test_system',
    );
    expect(new URL(kept!.server_url).username).toBe(provisioning.username);
    expect(kept!.secret).not.toContain(Buffer.from('kept-apart').toString('hex'));
    // The store, holding only its own key, gets the login and its password (derived from that key).
    const storeKey = storeKeyOf(options.keys.masterKey!, 'secure');
    const storeOnly = new CatalogService(
      db,
      { ...options, keys: { storeKeys: { secure: storeKey } } },
      new MessageClient(one.nc, { subjectPrefix: prefix, defaultTimeoutMs: 2_000, signer: testContextSigner }),
    );
    const url = new URL((await storeOnly.getPlacement(tenant, 'secure')).serverUrl);
    expect(url.username).toBe(login);
    expect(url.password).toBe(
      new ServerSecretBox({ storeKeys: { secure: storeKey } }).placementLoginPassword('secure', login),
    );
    expect(await one.admin.placementProvisionerUrl(id, 'secure')).toBe(provisioning.toString());
    expect(
      await pgQuery('SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1', [database]),
    ).toEqual([{ owner: login }]);
    // A crash between the catalog's commit and the login: the retry makes it (again).
    await pgQuery(`DROP DATABASE "${database}"`);
    await pgQuery(`DROP ROLE "${login}"`);
    await one.admin.ensurePlacementLogins(id);
    expect(await pgQuery('SELECT 1 AS found FROM pg_roles WHERE rolname = $1', [login])).toEqual([{ found: 1 }]);
    // Nobody gives the catalog a placement's own login: it makes those itself.
    await expect(
      one.admin.createTenant({
        slug: slug('givenlogin'),
        name: 'X',
        placements: [{ store: 'secure', serverUrl: `postgres://${login}@127.0.0.1:5432`, kind: 'database', database }],
      }),
    ).rejects.toMatchObject({ code: CatalogErrorCode.INVALID_PLACEMENT });
    // The tenant goes: its login and database with it, and what was kept for them.
    await expect(one.admin.deleteTenantById(id, tenant)).resolves.toBe(true);
    expect(await pgQuery('SELECT 1 FROM pg_roles WHERE rolname = $1', [login])).toEqual([]);
    expect(await pgQuery('SELECT 1 FROM pg_database WHERE datname = $1', [database])).toEqual([]);
    expect(
      await pgQuery('SELECT 1 FROM placement_provisioners WHERE tenant_id = $1', [id], 'polystore_test_system'),
    ).toEqual([]);
  });

  it('catalog - a database placement recorded before placements had logins is adopted in place: the login owns its data, the store opens it with that login, every process sees the new version', async () => {
    const tenant = slug('adopt');
    const id = randomUUID();
    const database = `ps_secure_${id.replace(/-/g, '')}`;
    const login = `${database}_login`;
    // As an earlier version recorded it: the provisioning login's URL, its password sealed for the store.
    await one.admin.createTenant({ id, slug: tenant, name: 'Legacy', placements: placements(tenant) });
    const provisioning = new URL(TestServices.postgresUrl);
    provisioning.password = 'legacy-secret'; // trust auth here: the password only has to travel
    const sealed = one.admin.sealedSpec(id, {
      store: 'secure',
      serverUrl: provisioning.toString(),
      kind: 'database',
      database,
    }).sealedPassword!;
    provisioning.password = '';
    await pgQuery(
      `UPDATE placements SET server_url = $2, server_secret = decode($3, 'base64'), database_name = $4 WHERE tenant_id = $1`,
      [id, provisioning.toString(), sealed, database],
      'polystore_test_system',
    );
    await pgQuery(`CREATE DATABASE "${database}"`);
    await pgQuery(
      "CREATE TABLE customers (id serial PRIMARY KEY, name text); INSERT INTO customers (name) VALUES ('Ada')",
      [],
      database,
    );
    expect(await one.admin.legacyPlacementLogins([tenant])).toEqual([{ slug: tenant, store: 'secure' }]);
    const before = (await two.catalog.getPlacement(tenant, 'secure')).version;

    const report = await one.admin.adoptPlacementLogins([tenant]);
    expect(report).toEqual({ adopted: [{ slug: tenant, store: 'secure', objects: 1 }], failed: [] });
    expect(
      await pgQuery(
        `SELECT (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()) AS db,
                (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'customers') AS tbl`,
        [],
        database,
      ),
    ).toEqual([{ db: login, tbl: login }]);
    // The other process drops its cached view at once; the store, holding only its key, opens the login.
    await eventually(async () => (await two.catalog.getPlacement(tenant, 'secure')).version === before + 1, {
      what: 'the new version seen by the other process',
    });
    const storeKey = storeKeyOf(options.keys.masterKey!, 'secure');
    const storeOnly = new CatalogService(
      db,
      { ...options, keys: { storeKeys: { secure: storeKey } } },
      new MessageClient(one.nc, { subjectPrefix: prefix, defaultTimeoutMs: 2_000, signer: testContextSigner }),
    );
    expect(new URL((await storeOnly.getPlacement(tenant, 'secure')).serverUrl).username).toBe(login);
    expect(await one.admin.placementProvisionerUrl(id, 'secure')).toBe(
      Object.assign(new URL(TestServices.postgresUrl), { password: 'legacy-secret' }).toString(),
    );
    // Done: nothing left to adopt, and a second run changes nothing.
    expect(await one.admin.legacyPlacementLogins([tenant])).toEqual([]);
    await expect(one.admin.adoptPlacementLogins([tenant])).resolves.toEqual({ adopted: [], failed: [] });
    await expect(one.admin.deleteTenantById(id, tenant)).resolves.toBe(true);
    expect(await pgQuery('SELECT 1 FROM pg_database WHERE datname = $1', [database])).toEqual([]);
  });

  it('catalog - a taken slug is a TENANT_EXISTS conflict', async () => {
    const tenant = slug('dup');
    await one.admin.createTenant({ slug: tenant, name: 'A', placements: [] });
    await expect(one.admin.createTenant({ slug: tenant, name: 'B', placements: [] })).rejects.toMatchObject({
      code: CatalogErrorCode.TENANT_EXISTS,
    });
  });

  it('catalog - unsafe placements are refused before anything is written', async () => {
    const tenant = slug('bad');
    await expect(
      one.admin.createTenant({
        slug: tenant,
        name: 'X',
        placements: [{ store: 'secure', serverUrl: 'postgres://h:5432', kind: 'database', database: 'x"; DROP' }],
      }),
    ).rejects.toMatchObject({ code: CatalogErrorCode.INVALID_PLACEMENT });
    await expect(
      one.admin.createTenant({
        slug: tenant,
        name: 'X',
        placements: [{ store: 'secure', serverUrl: 'http://h', kind: 'database', database: 'ok_db' }],
      }),
    ).rejects.toMatchObject({ code: CatalogErrorCode.INVALID_PLACEMENT });
    expect(await one.catalog.findTenant(tenant)).toBeNull();
  });

  it('catalog - API keys authenticate only while their tenant is active, and are stored hashed', async () => {
    const tenant = slug('keys');
    await one.admin.createTenant({ slug: tenant, name: 'Keys', placements: [] });
    const key = await one.keys.issue(tenant);
    expect(await one.catalog.authenticate(key.secret)).toBeNull(); // still provisioning
    await one.admin.setStatus(tenant, 'active');
    expect(await one.catalog.authenticate(key.secret)).toEqual({
      keyId: key.id,
      tenant,
      scopes: ['full'],
      expiresAt: null,
    });
    expect(await one.catalog.authenticate(key.secret.slice(0, -1) + (key.secret.endsWith('A') ? 'B' : 'A'))).toBeNull();
    expect(await one.catalog.authenticate('not a key')).toBeNull();
    const stored = await pgQuery<{ hash: string }>(
      `SELECT encode(key_hash, 'hex') AS hash FROM api_keys WHERE id = $1`,
      [key.id],
      'polystore_test_system',
    );
    expect(stored[0]!.hash).toHaveLength(64);
    expect(stored[0]!.hash).not.toContain(Buffer.from(key.secret).toString('hex'));
  });

  it('catalog - a key revoked by one process is refused by the other at once, though it cached it for 60 s', async () => {
    const tenant = slug('revoke');
    await one.admin.createTenant({ slug: tenant, name: 'Revoke', placements: [] });
    await one.admin.setStatus(tenant, 'active');
    const [keep, drop] = [
      await one.keys.issue(tenant, { name: 'keep' }),
      await one.keys.issue(tenant, { name: 'drop' }),
    ];
    expect(await two.catalog.authenticate(drop.secret)).toMatchObject({ keyId: drop.id });
    await one.keys.revoke(tenant, drop.id);
    await eventually(async () => (await two.catalog.authenticate(drop.secret)) === null, {
      timeoutMs: 1_000,
      what: 'revocation seen by the other process',
    });
    expect(await two.catalog.authenticate(keep.secret)).toMatchObject({ keyId: keep.id });
    expect((await one.keys.list(tenant)).map((k) => k.name)).toEqual(['keep']);
    await expect(one.keys.revoke(tenant, drop.id)).rejects.toMatchObject({ code: CatalogErrorCode.API_KEY_NOT_FOUND });
  });

  it("catalog - a tenant cannot list, revoke or rotate another tenant's key", async () => {
    const [a, b] = [slug('ka'), slug('kb')];
    for (const t of [a, b]) {
      await one.admin.createTenant({ slug: t, name: t, placements: [] });
      await one.admin.setStatus(t, 'active');
    }
    const bKey = await one.keys.issue(b);
    expect(await one.keys.list(a)).toEqual([]);
    await expect(one.keys.revoke(a, bKey.id)).rejects.toMatchObject({ code: CatalogErrorCode.API_KEY_NOT_FOUND });
    await expect(one.keys.rotate(a, bKey.id, 1_000)).rejects.toMatchObject({
      code: CatalogErrorCode.API_KEY_NOT_FOUND,
    });
    expect(await one.catalog.authenticate(bKey.secret)).toMatchObject({ tenant: b });
  });

  it('catalog - an expired key is refused even while cached; a rotated key works for the overlap only', async () => {
    const tenant = slug('expiry');
    await one.admin.createTenant({ slug: tenant, name: 'Expiry', placements: [] });
    await one.admin.setStatus(tenant, 'active');
    const shortLived = await one.keys.issue(tenant, { name: 'short', expiresAt: new Date(Date.now() + 600) });
    expect(await two.catalog.authenticate(shortLived.secret)).toMatchObject({ keyId: shortLived.id }); // now cached
    await eventually(async () => (await two.catalog.authenticate(shortLived.secret)) === null, {
      timeoutMs: 3_000,
      what: 'the expiry honoured by the cache',
    });

    const old = await one.keys.issue(tenant, { name: 'ci', scopes: ['read-only', 'devices'] });
    const fresh = await one.keys.rotate(tenant, old.id, 800);
    expect(fresh).toMatchObject({ name: 'ci', scopes: ['read-only', 'devices'], expiresAt: null });
    expect(await two.catalog.authenticate(fresh.secret)).toMatchObject({ scopes: ['read-only', 'devices'] });
    const listed = await one.keys.list(tenant);
    expect(listed.find((k) => k.id === old.id)).toMatchObject({ replacedBy: fresh.id });
    expect(await two.catalog.authenticate(old.secret)).toMatchObject({ keyId: old.id }); // the overlap
    await expect(one.keys.rotate(tenant, old.id, 800)).rejects.toMatchObject({
      code: CatalogErrorCode.API_KEY_NOT_FOUND,
    });
    await eventually(async () => (await two.catalog.authenticate(old.secret)) === null, {
      timeoutMs: 3_000,
      what: 'the old key refused after the overlap',
    });
    expect(await two.catalog.authenticate(fresh.secret)).toMatchObject({ keyId: fresh.id });
  });

  it('catalog - scopes outside the three are refused by the database itself', async () => {
    const tenant = slug('scopes');
    await one.admin.createTenant({ slug: tenant, name: 'Scopes', placements: [] });
    await expect(one.keys.issue(tenant, { scopes: ['admin' as never] })).rejects.toThrow(/api_keys_scopes_check/);
    await one.keys.recordUse([(await one.keys.issue(tenant)).id]);
    expect((await one.keys.list(tenant)).map((k) => k.lastUsedAt !== null)).toEqual([true]);
  });

  it("catalog - a change made by one process drops the other's cached view at once (event), despite a 60 s TTL", async () => {
    const tenant = slug('inval');
    // Process two caches "unknown tenant" (negative TTL 60 s in this test).
    expect(await two.catalog.findTenant(tenant)).toBeNull();
    await one.admin.createTenant({ slug: tenant, name: 'Inval', placements: [] });
    await eventually(async () => (await two.catalog.findTenant(tenant))?.status === 'provisioning', {
      timeoutMs: 2_000,
      what: 'creation seen',
    });
    await one.admin.setStatus(tenant, 'active');
    await eventually(async () => (await two.catalog.findTenant(tenant))?.status === 'active', {
      timeoutMs: 2_000,
      what: 'activation seen',
    });
    const seen: string[] = [];
    const off = two.catalog.onTenantChanged((t) => seen.push(t));
    await one.admin.deleteTenant(tenant);
    await eventually(async () => (await two.catalog.findTenant(tenant)) === null, {
      timeoutMs: 2_000,
      what: 'deletion seen',
    });
    expect(seen).toContain(tenant);
    off();
  });

  it('catalog - moving a placement seals the new password, bumps the version and is seen by every process at once', async () => {
    const tenant = slug('move');
    await one.admin.createTenant({ slug: tenant, name: 'Move', placements: placements(tenant) });
    expect(await two.catalog.getPlacement(tenant, 'secure')).toMatchObject({ version: 1 }); // cached for 60 s
    const moved = await one.admin.movePlacement(tenant, 'secure', 'mysql://bob:n3w%40pw@10.9.9.9:5433', 1);
    expect(moved).toEqual({
      store: 'secure',
      kind: 'database',
      server: 'mysql://10.9.9.9:5433',
      database: `ps_secure_${tenant.replace(/-/g, '_')}`,
      version: 2,
    });
    const raw = await pgQuery<{ server_url: string; secret: string }>(
      `SELECT p.server_url, encode(p.server_secret, 'hex') AS secret FROM placements p JOIN tenants t ON t.id = p.tenant_id WHERE t.slug = $1`,
      [tenant],
      'polystore_test_system',
    );
    expect(raw[0]!.server_url).toBe('mysql://bob@10.9.9.9:5433');
    expect(raw[0]!.secret).not.toContain(Buffer.from('n3w@pw').toString('hex'));
    const seen = await eventually(
      async () => {
        const p = await two.catalog.getPlacement(tenant, 'secure');
        return p.version === 2 ? p : null;
      },
      { timeoutMs: 2_000, what: 'move seen by the other process' },
    );
    expect(seen).toMatchObject({ serverId: 'mysql://10.9.9.9:5433', version: 2 });
    expect(new URL(seen.serverUrl).password).toBe(encodeURIComponent('n3w@pw'));
  });

  it('catalog - a move from a stale version is a PLACEMENT_VERSION_CONFLICT and changes nothing', async () => {
    const tenant = slug('stale');
    await one.admin.createTenant({ slug: tenant, name: 'Stale', placements: placements(tenant) });
    await one.admin.movePlacement(tenant, 'secure', 'mysql://10.9.9.9:5433', 1);
    await expect(one.admin.movePlacement(tenant, 'secure', 'postgres://10.8.8.8:5432', 1)).rejects.toMatchObject({
      code: CatalogErrorCode.PLACEMENT_VERSION_CONFLICT,
    });
    expect(await one.catalog.getPlacementFresh(tenant, 'secure')).toMatchObject({
      serverId: 'mysql://10.9.9.9:5433',
      version: 2,
    });
    await expect(one.admin.movePlacement(tenant, 'edge', 'mysql://10.9.9.9:5433', 1)).rejects.toMatchObject({
      code: CatalogErrorCode.PLACEMENT_NOT_FOUND,
    });
  });
});
