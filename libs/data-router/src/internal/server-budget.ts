import { pgSslOptions } from '../driver-tls.js';
import type { ServerAddress } from '../placement.js';
import { queryMysqlOnce } from './connection-options.js';

/** How much of a server one router may use: a share of what the server allows, minus a reserve. */
export interface ServerShare {
  /** Fraction (0-1] of the server's usable connections this process may hold. */
  readonly share: number;
  /** Connections left aside on the server (other services, admin sessions, replicas' catalogs). */
  readonly reserve: number;
}

/**
 * The connections a server accepts from ordinary roles: PostgreSQL's `max_connections` minus
 * `superuser_reserved_connections`, MySQL/MariaDB's `max_connections`. One short connection.
 */
export async function usableConnections(address: ServerAddress, connectTimeoutMs: number): Promise<number> {
  if (address.dialect === 'postgres') {
    const pg = await import('pg');
    const client = new pg.default.Client({
      host: address.host,
      port: address.port,
      user: address.username,
      password: address.password,
      database: 'postgres',
      connectionTimeoutMillis: connectTimeoutMs,
      application_name: 'polystore-budget-probe',
      ssl: pgSslOptions(address),
    });
    await client.connect();
    try {
      const { rows } = await client.query<{ usable: number }>(
        "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int AS usable",
      );
      return rows[0]!.usable;
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  const rows = await queryMysqlOnce<{ usable: number | string }>(
    address,
    connectTimeoutMs,
    'SELECT @@max_connections AS usable',
  );
  return Number(rows[0]!.usable);
}

/** This router's budget on a server: `min(configured, floor((usable - reserve) x share))`, at least 1. */
export function budgetFromServer(configured: number, usable: number, share: ServerShare): number {
  return Math.max(1, Math.min(configured, Math.floor((usable - share.reserve) * share.share)));
}
