import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTenantSlug } from '#polystore/tenancy';
import { DataRouterErrorCode, DatabaseAdmin } from '#polystore/data-router';
import { PrivateMariaDb } from '../../../test/support/mariadb-server.js';
import { TestCa } from '../../../test/support/tls-certs.js';
import { queryAsOnlyTenant } from './tenant-query.util.js';

const TENANT = parseTenantSlug('tls-maria');
const DATABASE = 'ps_tls_maria_tenant';

/** The TLS cipher of the session that ran the query ('' in plaintext), read from the server's side. */
async function sessionCipher(serverUrl: string): Promise<string> {
  const rows = await queryAsOnlyTenant<{ Value: string }>(serverUrl, TENANT, DATABASE, "SHOW STATUS LIKE 'Ssl_cipher'");
  return rows[0]!.Value;
}

describe('data-router over TLS (a private MariaDB with require_secure_transport)', () => {
  let dir: string;
  let ca: TestCa;
  let otherCa: TestCa;
  let server: PrivateMariaDb;
  let host: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'polystore-tls-maria-'));
    ca = TestCa.create(dir);
    otherCa = TestCa.create(dir, 'other-ca');
    server = await PrivateMariaDb.create({
      tls: { ...ca.issue('server', 'IP:127.0.0.1,DNS:localhost'), caFile: ca.caFile },
    });
    host = `root@localhost:${server.port}`;
    await DatabaseAdmin.ensureDatabase(`mariadb://${host}?sslmode=verify-full&sslrootcert=${ca.caFile}`, DATABASE);
  }, 120_000);

  afterAll(async () => {
    await server?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tls-mariadb - verify-full with the CA reaches the tenant and the session is encrypted', async () => {
    await expect(sessionCipher(`mariadb://${host}?sslmode=verify-full&sslrootcert=${ca.caFile}`)).resolves.toMatch(
      /\S/,
    );
  });

  it("tls-mariadb - a mysql:// URL with MySQL's spellings (flavour probe included), and require, are encrypted too", async () => {
    await expect(sessionCipher(`mysql://${host}?ssl-mode=VERIFY_IDENTITY&ssl-ca=${ca.caFile}`)).resolves.toMatch(/\S/);
    await expect(sessionCipher(`mariadb://${host}?sslmode=require`)).resolves.toMatch(/\S/);
  });

  it('tls-mariadb - the same server without TLS settings is refused (require_secure_transport)', async () => {
    const refused = (await sessionCipher(`mariadb://${host}`).catch((error: unknown) => error)) as Error;
    expect(refused).toMatchObject({ code: DataRouterErrorCode.DATABASE_UNAVAILABLE });
    // MariaDB 10.11 refuses a plaintext login under require_secure_transport as access denied
    // (1045); the same login over TLS is accepted by the tests above.
    expect(refused).toMatchObject({ details: { reason: 'ER_ACCESS_DENIED_ERROR' } });
    expect(refused.cause).toHaveProperty('message', expect.stringMatching(/Access denied for user 'root'/));
  });

  it('tls-mariadb - verify-full with another CA fails verification', async () => {
    const url = `mariadb://${host}?sslmode=verify-full&sslrootcert=${otherCa.caFile}`;
    const refused = (await sessionCipher(url).catch((error: unknown) => error)) as Error;
    expect(refused).toMatchObject({
      code: DataRouterErrorCode.DATABASE_UNAVAILABLE,
      details: { reason: 'HANDSHAKE_SSL_ERROR' }, // mysql2's code for a failed TLS handshake
    });
    // MariaDB sends its CA along (--ssl-ca), which the client does not trust.
    expect(refused.cause).toHaveProperty('message', 'self-signed certificate in certificate chain');
  });

  it('tls-mariadb - by IP address: verify-ca works; verify-full is refused up front (mysql2 cannot check an IP)', async () => {
    const byIp = `root@127.0.0.1:${server.port}`;
    await expect(sessionCipher(`mariadb://${byIp}?sslmode=verify-ca&sslrootcert=${ca.caFile}`)).resolves.toMatch(/\S/);
    await expect(sessionCipher(`mariadb://${byIp}?sslmode=verify-full&sslrootcert=${ca.caFile}`)).rejects.toMatchObject(
      {
        code: DataRouterErrorCode.INVALID_PLACEMENT,
        message: expect.stringContaining('sslmode: verify-full on MySQL/MariaDB needs the host as a name'),
      },
    );
  });
});
