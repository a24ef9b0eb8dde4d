// Before the suite: removes what a crashed earlier run may have left behind: test tenant
// databases (`ps_<store>_e2e_*`, `ps_rt_*`) and test tenants in the test catalog. Only names
// the tests themselves generate are touched; tests never use the real catalog.
import { existsSync } from 'node:fs';
import pg from 'pg';

const url = new URL(process.env.SECURE_SERVER_URL ?? 'postgres://root@127.0.0.1:5432');

async function query(sql, database = 'postgres') {
  const client = new pg.Client({
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username || 'root'),
    password: url.password ? decodeURIComponent(url.password) : undefined,
    database,
  });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

async function dropMariaDbLeftovers() {
  const mysql = await import('mysql2/promise');
  const mariadb = new URL(process.env.RELIABLE_SERVER_URL ?? 'mysql://root@127.0.0.1:3306');
  const connection = await mysql.createConnection({
    host: mariadb.hostname,
    port: Number(mariadb.port || 3306),
    user: decodeURIComponent(mariadb.username || 'root'),
    password: mariadb.password ? decodeURIComponent(mariadb.password) : undefined,
  });
  try {
    const [rows] = await connection.query(
      `SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name REGEXP '^ps_[a-z]+_e2e_[a-z0-9_]+$' OR schema_name REGEXP '^ps_rt_[a-z0-9_]+$'`,
    );
    for (const { name } of rows) await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
  } finally {
    await connection.end();
  }
}

export default async function globalSetup() {
  await dropMariaDbLeftovers();
  if (!existsSync(new URL('../../dist/apps/gateway/src/main.js', import.meta.url))) {
    throw new Error('dist/ is missing: run the tests with `npm test` (it builds first)');
  }
  const leftovers = await query(
    `SELECT datname FROM pg_database WHERE datname ~ '^ps_[a-z]+_e2e_[a-z0-9_]+$' OR datname ~ '^ps_rt_[a-z0-9_]+$'`,
  );
  for (const { datname } of leftovers) await query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  const catalog = await query(`SELECT 1 FROM pg_database WHERE datname = 'polystore_test_system'`);
  if (catalog.length > 0) {
    await query(`DELETE FROM tenants WHERE slug LIKE 'e2e-%'`, 'polystore_test_system').catch(() => undefined);
  }
}
