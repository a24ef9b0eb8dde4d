import { TestServices } from './services.js';

/** Runs one query on a MariaDB/MySQL server (default: the test server), then disconnects. */
export async function mariaQuery<R = Record<string, unknown>>(
  sql: string,
  params: unknown[] = [],
  database?: string,
  serverUrl: string = TestServices.mariadbUrl,
): Promise<R[]> {
  const mysql = await import('mysql2/promise');
  const url = new URL(serverUrl);
  const connection = await mysql.createConnection({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username || 'root'),
    password: url.password ? decodeURIComponent(url.password) : undefined,
    database,
  });
  try {
    const [rows] = await connection.query(sql, params);
    return rows as R[];
  } finally {
    await connection.end();
  }
}
