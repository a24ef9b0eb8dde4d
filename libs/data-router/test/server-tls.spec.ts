import { describe, expect, it } from '@jest/globals';
import {
  DataRouterErrorCode,
  connectionOptions,
  mysqlSslOptions,
  parseServerUrl,
  pgSslOptions,
  tlsQuery,
} from '#polystore/data-router';

const SETTINGS = { poolSize: 2, applicationName: 'tls-unit', connectTimeoutMs: 1_000 };

function parseError(url: string): Error {
  try {
    parseServerUrl(url);
  } catch (error) {
    return error as Error;
  }
  throw new Error(`${url} parsed`);
}

describe('server URL TLS parameters', () => {
  it('server-tls - sslmode and sslrootcert are parsed; the server id stays dialect://host:port', () => {
    const address = parseServerUrl('postgres://u:secret@db.example:6432?sslmode=verify-ca&sslrootcert=/etc/ca.pem');
    expect(address.tls).toEqual({ mode: 'verify-ca', caFile: '/etc/ca.pem' });
    expect(address.id).toBe('postgres://db.example:6432');
    expect(parseServerUrl('postgres://db.example').tls).toBeUndefined();
    expect(parseServerUrl('postgres://db.example?sslmode=disable').tls).toBeUndefined();
    expect(parseServerUrl('postgres://db.example?sslmode=require').tls).toEqual({ mode: 'require' });
    // sslrootcert alone verifies everything.
    expect(parseServerUrl('postgres://db.example?sslrootcert=/ca.pem').tls).toEqual({
      mode: 'verify-full',
      caFile: '/ca.pem',
    });
  });

  it("server-tls - MySQL/MariaDB URLs also take MySQL's ssl-mode and ssl-ca spellings", () => {
    expect(parseServerUrl('mariadb://db?ssl-mode=VERIFY_IDENTITY&ssl-ca=/ca.pem').tls).toEqual({
      mode: 'verify-full',
      caFile: '/ca.pem',
    });
    expect(parseServerUrl('mysql://db?ssl-mode=required').tls).toEqual({ mode: 'require' });
    expect(parseServerUrl('mysql://db?sslmode=verify-ca&sslrootcert=/ca.pem').tls).toEqual({
      mode: 'verify-ca',
      caFile: '/ca.pem',
    });
    expect(parseError('postgres://db?ssl-mode=REQUIRED').message).toMatch(/ssl-mode is not supported/);
    expect(parseError('mysql://10.0.0.5?sslmode=verify-full').message).toMatch(
      /verify-full on MySQL\/MariaDB needs the host as a name/,
    );
    expect(parseServerUrl('postgres://10.0.0.5?sslmode=verify-full').tls).toEqual({ mode: 'verify-full' });
  });

  it('server-tls - bad values and unknown parameters are refused, naming the parameter and never the password', () => {
    const cases: Array<[string, RegExp]> = [
      [
        'postgres://u:hunter2secret@db?sslmode=bogus',
        /sslmode must be one of disable, require, verify-ca, verify-full/,
      ],
      ['postgres://u:hunter2secret@db?sslmode=verify-full&foo=1', /parameter foo is not supported/],
      ['mysql://u:hunter2secret@db?ssl-mode=PREFERRED', /ssl-mode must be one of/],
      ['postgres://u:hunter2secret@db?sslmode=require&sslrootcert=/ca.pem', /sslrootcert needs sslmode=verify-ca/],
      ['postgres://u:hunter2secret@db?sslrootcert=', /sslrootcert must name a PEM file/],
      ['mysql://u:hunter2secret@db?sslmode=require&ssl-mode=REQUIRED', /sslmode is given more than once/],
      ['mongodb://u:hunter2secret@db?sslmode=require', /mongodb:\/\/ server URLs take no parameters/],
    ];
    for (const [url, message] of cases) {
      const error = parseError(url);
      expect(error).toMatchObject({ code: DataRouterErrorCode.INVALID_PLACEMENT });
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain('hunter2secret');
      expect(error.message).not.toContain('bogus');
    }
  });

  it('server-tls - the canonical query keeps mode and CA only', () => {
    expect(tlsQuery(parseServerUrl('mariadb://db?ssl-ca=/a%20b/ca.pem').tls)).toBe(
      'sslmode=verify-full&sslrootcert=%2Fa+b%2Fca.pem',
    );
    expect(tlsQuery(undefined)).toBe('');
  });

  it('server-tls - driver options: require skips verification, verify-* check the CA, verify-full the host', () => {
    expect(pgSslOptions(parseServerUrl('postgres://db'))).toBe(false);
    expect(pgSslOptions(parseServerUrl('postgres://db?sslmode=require'))).toEqual({ rejectUnauthorized: false });
    const verifyCa = pgSslOptions(parseServerUrl('postgres://db?sslmode=verify-ca'));
    expect(verifyCa).toMatchObject({ rejectUnauthorized: true });
    expect(verifyCa && verifyCa.checkServerIdentity?.('db', {} as never)).toBeUndefined();
    expect(mysqlSslOptions(parseServerUrl('mysql://db'))).toBeUndefined();
    expect(mysqlSslOptions(parseServerUrl('mysql://db?sslmode=verify-full'))).toEqual({
      rejectUnauthorized: true,
      verifyIdentity: true,
    });
    expect(mysqlSslOptions(parseServerUrl('mysql://db?sslmode=verify-ca'))).toEqual({
      rejectUnauthorized: true,
      verifyIdentity: false,
    });
    const pgOptions = connectionOptions(
      parseServerUrl('postgres://db?sslmode=require'),
      'x',
      { entities: [] },
      SETTINGS,
    );
    expect(pgOptions).toMatchObject({ ssl: { rejectUnauthorized: false } });
    const plainMysql = connectionOptions(parseServerUrl('mariadb://db'), 'x', { entities: [] }, SETTINGS);
    expect(plainMysql).not.toHaveProperty('ssl');
  });

  it('server-tls - a missing CA file is an error naming sslrootcert, raised when a connection is set up', () => {
    const address = parseServerUrl('postgres://u:hunter2secret@db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem');
    expect(() => connectionOptions(address, 'x', { entities: [] }, SETTINGS)).toThrow(
      /sslrootcert: cannot read the CA file \/nonexistent\/ca.pem \(ENOENT\)/,
    );
    expect(() => mysqlSslOptions(parseServerUrl('mysql://db?ssl-ca=/nonexistent/ca.pem'))).toThrow(/sslrootcert/);
  });
});
