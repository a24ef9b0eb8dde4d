import { readFileSync } from 'node:fs';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { DataRouterException } from './data-router.exception.js';
import type { ServerAddress } from './placement.js';
import type { ServerTls } from './server-tls.js';

/** The CA file of `tls`, read now (once per connection set-up: a pool, a short connection). */
function readCa(tls: ServerTls): Buffer | undefined {
  if (tls.caFile === undefined) return undefined;
  try {
    return readFileSync(tls.caFile);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw DataRouterException.invalidPlacement(
      `server URL parameter sslrootcert: cannot read the CA file ${tls.caFile} (${code})`,
    );
  }
}

/** `pg`'s `ssl` option (handed to `tls.connect`), as far as Polystore sets it. */
export interface PgSslOptions {
  readonly ca?: Buffer;
  readonly rejectUnauthorized: boolean;
  readonly checkServerIdentity?: (servername: string, cert: PeerCertificate) => Error | undefined;
}

/**
 * The `ssl` option of `pg` (node-postgres, also TypeORM's `postgres` driver) for `address`:
 * `false` without TLS. With `ssl` set, `pg` refuses a server that does not offer TLS (no
 * fallback to plaintext). `verify-full` checks the certificate against the URL's host itself,
 * whether it is a name or an IP address.
 */
export function pgSslOptions(address: ServerAddress): false | PgSslOptions {
  const { tls } = address;
  if (!tls) return false;
  if (tls.mode === 'require') return { rejectUnauthorized: false };
  const ca = readCa(tls);
  return {
    ...(ca ? { ca } : {}),
    rejectUnauthorized: true,
    checkServerIdentity:
      tls.mode === 'verify-full'
        ? (_servername: string, cert: PeerCertificate) => checkServerIdentity(address.host, cert)
        : () => undefined,
  };
}

/** `mysql2`'s `ssl` option (its own `verifyIdentity` flag checks the host name). */
export interface MysqlSslOptions {
  readonly ca?: Buffer;
  readonly rejectUnauthorized: boolean;
  readonly verifyIdentity: boolean;
}

/**
 * The `ssl` option of `mysql2` (TypeORM's `mysql` and `mariadb` drivers) for `address`:
 * `undefined` without TLS. With `ssl` set, `mysql2` refuses a server that does not offer TLS.
 * `verify-full` is `verifyIdentity` (the host, name or IP address, must be in the certificate).
 */
export function mysqlSslOptions(address: ServerAddress): MysqlSslOptions | undefined {
  const { tls } = address;
  if (!tls) return undefined;
  if (tls.mode === 'require') return { rejectUnauthorized: false, verifyIdentity: false };
  const ca = readCa(tls);
  return { ...(ca ? { ca } : {}), rejectUnauthorized: true, verifyIdentity: tls.mode === 'verify-full' };
}
