import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  ApiKeyAdminService,
  CatalogAdminService,
  CatalogService,
  openSystemDatabase,
  type CatalogOptions,
} from '#polystore/catalog';
import { connectNats, MessageClient } from '#polystore/messaging';
import { parseTenantSlug, type TenantSlug } from '#polystore/tenancy';
import { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { testContextSigner } from '../../../test/support/context-keys.js';
import { eventually } from '../../../test/support/eventually.js';
import { uniqueToken } from '../../../test/support/ids.js';
import { TestServices } from '../../../test/support/services.js';

/** The value of a catalog counter for `kind` in `registry`. */
async function counted(registry: Registry, name: string, kind: string): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`${name} is not registered`);
  return (await metric.get()).values.find((v) => v.labels['kind'] === kind)?.value ?? 0;
}

describe('catalog - the system database down: known entries served stale for a bounded window, misses not', () => {
  const prefix = `co${uniqueToken(6)}`;
  const base: CatalogOptions = {
    systemDbUrl: TestServices.systemDbUrl,
    keys: { masterKey: Buffer.alloc(32, 3) },
    cacheTtlMs: 60_000,
    negativeCacheTtlMs: 2_000,
    poolSize: 2,
    applicationName: 'catalog-outage-test',
  };
  let nc: NatsConnection;
  let messages: MessageClient;
  /** The healthy side: creates and deletes the test tenant. */
  let db: DataSource;
  let admin: CatalogAdminService;
  let tenant: TenantSlug;
  let secret: string;
  let keyId: string;

  beforeAll(async () => {
    nc = await connectNats({ url: TestServices.natsUrl, name: 'catalog-outage-test' });
    messages = new MessageClient(nc, { subjectPrefix: prefix, defaultTimeoutMs: 2_000, signer: testContextSigner });
    db = await openSystemDatabase({ url: base.systemDbUrl, poolSize: 2, applicationName: 'catalog-outage-test' });
    const catalog = new CatalogService(db, base, messages);
    admin = new CatalogAdminService(db, base, catalog);
    tenant = parseTenantSlug(`e2e-${uniqueToken(6)}-outage`);
    await admin.createTenant({ slug: tenant, name: 'Outage', placements: [] });
    await admin.setStatus(tenant, 'active');
    const key = await new ApiKeyAdminService(db, catalog).issue(tenant);
    [secret, keyId] = [key.secret, key.id];
  });

  afterAll(async () => {
    await admin?.deleteTenant(tenant).catch(() => undefined);
    await db?.destroy();
    await nc?.drain();
  });

  /**
   * A catalog on a DataSource of its own, which the test then destroys: every later query fails
   * in the driver, as when the system database is unreachable.
   */
  async function catalogThatLosesItsDatabase(options: Partial<CatalogOptions>) {
    const own = await openSystemDatabase({
      url: base.systemDbUrl,
      poolSize: 2,
      applicationName: 'catalog-outage-test',
    });
    const registry = new Registry();
    const catalog = new CatalogService(own, { ...base, ...options, metrics: registry }, messages);
    return { catalog, registry, outage: () => own.destroy() };
  }

  it('catalog outage - a known key and tenant are served past their TTL while the database is down, each reload counted; an unknown key is an error, not a "no"', async () => {
    const { catalog, registry, outage } = await catalogThatLosesItsDatabase({ cacheTtlMs: 200, staleWindowMs: 60_000 });
    const principal = await catalog.authenticate(secret);
    expect(principal).toMatchObject({ keyId, tenant });
    expect(await catalog.findTenant(tenant)).toMatchObject({ slug: tenant, status: 'active' });
    expect(await counted(registry, 'polystore_catalog_lookups_total', 'api_key')).toBe(1);

    await outage();
    // Once the TTL is over, the reload fails and the known entries are still answered.
    await eventually(
      async () =>
        (await catalog.authenticate(secret)) !== null &&
        (await counted(registry, 'polystore_catalog_stale_served_total', 'api_key')) > 0,
      {
        timeoutMs: 5_000,
        what: 'the key served stale',
      },
    );
    expect(await catalog.authenticate(secret)).toEqual(principal);
    await eventually(
      async () =>
        (await catalog.findTenant(tenant))?.slug === tenant &&
        (await counted(registry, 'polystore_catalog_stale_served_total', 'tenant')) > 0,
      {
        timeoutMs: 5_000,
        what: 'the tenant served stale',
      },
    );
    expect(await counted(registry, 'polystore_catalog_lookups_total', 'api_key')).toBeGreaterThanOrEqual(2);
    // Never seen before: nothing to serve, the caller gets the failure (a 5xx), never a "no such key".
    await expect(catalog.authenticate(`psk_${'A'.repeat(43)}`)).rejects.toThrow();

    // A change event (a revoked key, a deleted tenant) drops the stale entries at once.
    catalog.invalidate(tenant);
    await expect(catalog.authenticate(secret)).rejects.toThrow();
    await expect(catalog.findTenant(tenant)).rejects.toThrow();
  });

  it('catalog outage - with no stale window (0) the first reload after the TTL fails', async () => {
    const { catalog, outage } = await catalogThatLosesItsDatabase({ cacheTtlMs: 200, staleWindowMs: 0 });
    expect(await catalog.authenticate(secret)).toMatchObject({ keyId });
    await outage();
    await eventually(
      () =>
        catalog.authenticate(secret).then(
          () => false,
          () => true,
        ),
      { timeoutMs: 5_000, what: 'the reload failing' },
    );
  });
});
