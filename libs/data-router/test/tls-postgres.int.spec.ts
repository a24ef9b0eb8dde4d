import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTenantSlug } from '#polystore/tenancy';
import { DataRouterErrorCode, DatabaseAdmin } from '#polystore/data-router';
import { PrivatePostgres } from '../../../test/support/postgres-server.js';
import { TestCa } from '../../../test/support/tls-certs.js';
import { queryAsOnlyTenant } from './tenant-query.util.js';

const TENANT = parseTenantSlug('tls-pg');
const DATABASE = 'ps_tls_pg_tenant';

/** Whether the session that ran the query is encrypted, read from the server's side. */
async function sessionEncrypted(serverUrl: string): Promise<boolean> {
  const rows = await queryAsOnlyTenant<{ ssl: boolean }>(
    serverUrl,
    TENANT,
    DATABASE,
    'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
  );
  return rows[0]!.ssl;
}

describe('data-router over TLS (a private PostgreSQL with hostssl only)', () => {
  let dir: string;
  let ca: TestCa;
  let otherCa: TestCa;
  let server: PrivatePostgres;
  let base: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'polystore-tls-pg-'));
    ca = TestCa.create(dir);
    otherCa = TestCa.create(dir, 'other-ca');
    // The certificate names 127.0.0.1 only: `localhost` is a name it does not hold.
    server = await PrivatePostgres.create({ tls: ca.issue('server', 'IP:127.0.0.1') });
    base = `postgres://root@127.0.0.1:${server.port}`;
    await DatabaseAdmin.ensureDatabase(`${base}?sslmode=verify-full&sslrootcert=${ca.caFile}`, DATABASE);
  }, 120_000);

  afterAll(() => {
    server?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tls-postgres - verify-full with the CA reaches the tenant and the session is encrypted', async () => {
    await expect(sessionEncrypted(`${base}?sslmode=verify-full&sslrootcert=${ca.caFile}`)).resolves.toBe(true);
  });

  it('tls-postgres - require (no verification) is encrypted too', async () => {
    await expect(sessionEncrypted(`${base}?sslmode=require`)).resolves.toBe(true);
  });

  it('tls-postgres - the same server without TLS settings is refused (hostssl only)', async () => {
    await expect(sessionEncrypted(base)).rejects.toMatchObject({
      code: DataRouterErrorCode.DATABASE_UNAVAILABLE,
      details: { reason: '28000' }, // no pg_hba.conf entry ... no encryption
    });
    const refused = await DatabaseAdmin.databaseExists(base, DATABASE).catch((error: unknown) => error as Error);
    expect(refused).toMatchObject({ code: DataRouterErrorCode.DATABASE_UNAVAILABLE });
    expect((refused as Error).cause).toHaveProperty('message', expect.stringContaining('no encryption'));
  });

  it('tls-postgres - verify-full with another CA fails verification', async () => {
    await expect(sessionEncrypted(`${base}?sslmode=verify-full&sslrootcert=${otherCa.caFile}`)).rejects.toMatchObject({
      code: DataRouterErrorCode.DATABASE_UNAVAILABLE,
      details: { reason: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
    });
  });

  it('tls-postgres - verify-full refuses a host name the certificate does not hold; verify-ca accepts it', async () => {
    const localhost = `postgres://root@localhost:${server.port}`;
    await expect(sessionEncrypted(`${localhost}?sslmode=verify-full&sslrootcert=${ca.caFile}`)).rejects.toMatchObject({
      code: DataRouterErrorCode.DATABASE_UNAVAILABLE,
      details: { reason: 'ERR_TLS_CERT_ALTNAME_INVALID' },
    });
    await expect(sessionEncrypted(`${localhost}?sslmode=verify-ca&sslrootcert=${ca.caFile}`)).resolves.toBe(true);
  });

  it('tls-postgres - a missing CA file is an error naming sslrootcert', async () => {
    await expect(
      sessionEncrypted(`${base}?sslmode=verify-full&sslrootcert=${join(dir, 'missing.pem')}`),
    ).rejects.toThrow(/sslrootcert: cannot read the CA file .*missing\.pem \(ENOENT\)/);
  });
});
