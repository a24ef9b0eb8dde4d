import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  CatalogAdminService,
  CatalogErrorCode,
  CatalogService,
  openSystemDatabase,
  splitServerUrl,
  type CatalogOptions,
} from '#polystore/catalog';
import { parseServerUrl } from '#polystore/data-router';
import { connectNats, MessageClient } from '#polystore/messaging';
import { parseTenantSlug } from '#polystore/tenancy';
import type { DataSource } from 'typeorm';
import { testContextSigner } from '../../../test/support/context-keys.js';
import { uniqueToken } from '../../../test/support/ids.js';
import { PrivatePostgres } from '../../../test/support/postgres-server.js';
import { TestServices } from '../../../test/support/services.js';
import { TestCa } from '../../../test/support/tls-certs.js';

describe('catalog over TLS (the system database on a private PostgreSQL with hostssl only)', () => {
  let dir: string;
  let ca: TestCa;
  let server: PrivatePostgres;
  let systemDbUrl: string;
  let db: DataSource;
  let nc: NatsConnection;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'polystore-tls-catalog-'));
    ca = TestCa.create(dir);
    server = await PrivatePostgres.create({ tls: ca.issue('server', 'IP:127.0.0.1,DNS:localhost') });
    systemDbUrl = `postgres://root@127.0.0.1:${server.port}/polystore_system?sslmode=verify-full&sslrootcert=${ca.caFile}`;
    db = await openSystemDatabase({ url: systemDbUrl, poolSize: 2, applicationName: 'catalog-tls-test' });
    nc = await connectNats({ url: TestServices.natsUrl, name: 'catalog-tls-test' });
  }, 120_000);

  afterAll(async () => {
    await nc?.drain();
    await db?.destroy();
    server?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('catalog-tls - SYSTEM_DB_URL with sslmode=verify-full: the database is created, migrated and encrypted', async () => {
    const [session] = await db.query<Array<{ ssl: boolean }>>(
      'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
    );
    expect(session!.ssl).toBe(true);
    const [migrations] = await db.query<Array<{ n: number }>>('SELECT count(*)::int AS n FROM catalog_migrations');
    expect(migrations!.n).toBeGreaterThanOrEqual(1);
  });

  it('catalog-tls - the system database URL without TLS settings is refused by the server', async () => {
    await expect(
      openSystemDatabase({
        url: `postgres://root@127.0.0.1:${server.port}/polystore_system`,
        poolSize: 1,
        applicationName: 'catalog-tls-plain',
      }),
    ).rejects.toMatchObject({ details: { reason: '28000' } });
  });

  it('catalog-tls - a bad parameter of the system database URL is named, before anything connects', async () => {
    const url = `postgres://root:hunter2secret@127.0.0.1:${server.port}/polystore_system?sslmode=bogus`;
    const opened = openSystemDatabase({ url, poolSize: 1, applicationName: 'x' });
    const error = (await opened.catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/server URL parameter sslmode must be one of/);
    expect(error.message).not.toContain('hunter2secret');
  });

  it('catalog-tls - split/join keep the TLS parameters (canonical), drop the password and any other part', () => {
    const stored = splitServerUrl('mariadb://app:p%40ss@db.example:3307/?ssl-mode=VERIFY_CA&ssl-ca=/etc/ps/ca.pem#x');
    expect(stored).toEqual({
      serverUrl: 'mariadb://app@db.example:3307?sslmode=verify-ca&sslrootcert=%2Fetc%2Fps%2Fca.pem',
      password: 'p@ss',
    });
    expect(parseServerUrl(stored.serverUrl)).toMatchObject({
      id: 'mariadb://db.example:3307',
      tls: { mode: 'verify-ca', caFile: '/etc/ps/ca.pem' },
    });
    expect(splitServerUrl('postgres://db.example?sslmode=disable').serverUrl).toBe('postgres://db.example');
    expect(() => splitServerUrl('postgres://u:hunter2secret@db.example?sslmod=require')).toThrow(
      /server URL parameter sslmod is not supported/,
    );
    let refused: unknown;
    try {
      splitServerUrl('postgres://u:hunter2secret@db.example?sslmode=nope');
    } catch (error) {
      refused = error;
    }
    expect(refused).toMatchObject({ code: CatalogErrorCode.INVALID_PLACEMENT });
    expect((refused as Error).message).not.toContain('hunter2secret');
  });

  it('catalog-tls - a placement on a TLS server stays TLS through the catalog (stored without password, resolved with it)', async () => {
    const prefix = `ctls${uniqueToken(6)}`;
    const options: CatalogOptions = {
      systemDbUrl,
      keys: { masterKey: Buffer.alloc(32, 5) },
      cacheTtlMs: 60_000,
      negativeCacheTtlMs: 60_000,
      poolSize: 2,
      applicationName: 'catalog-tls-test',
    };
    const messages = new MessageClient(nc, {
      subjectPrefix: prefix,
      defaultTimeoutMs: 2_000,
      signer: testContextSigner,
    });
    const catalog = new CatalogService(db, options, messages);
    catalog.onModuleInit();
    try {
      const admin = new CatalogAdminService(db, options, catalog);
      const tenant = parseTenantSlug(`tls-${uniqueToken(6)}`);
      const serverUrl = `postgres://alice:s3cr%3At@10.1.2.3:6543?sslmode=verify-full&sslrootcert=${ca.caFile}`;
      await admin.createTenant({
        slug: tenant,
        name: 'TLS',
        placements: [
          // A schema placement: the catalog records the given login (a database placement would get one of its own).
          {
            store: 'secure',
            serverUrl,
            kind: 'schema',
            database: 'polystore_secure',
            schema: `ps_secure_${tenant.replace(/-/g, '_')}`,
          },
        ],
      });
      const [row] = await db.query<Array<{ server_url: string }>>(
        'SELECT p.server_url FROM placements p JOIN tenants t ON t.id = p.tenant_id WHERE t.slug = $1',
        [tenant],
      );
      expect(row!.server_url).toBe(
        `postgres://alice@10.1.2.3:6543?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca.caFile)}`,
      );
      const placement = await catalog.getPlacement(tenant, 'secure');
      expect(placement.serverId).toBe('postgres://10.1.2.3:6543');
      expect(parseServerUrl(placement.serverUrl)).toMatchObject({
        password: 's3cr:t',
        tls: { mode: 'verify-full', caFile: ca.caFile },
      });
    } finally {
      catalog.onModuleDestroy();
    }
  });
});
