// Seeding registered devices directly in the stores' databases, for bench/saga.mjs: registering
// 100,000 devices through the saga first would take longer than the measurement itself.
//
// Each seeded device is a copy of a real registration of the same tenant (its template: a device
// registered through the saga just before), row for row, in every table the registration wrote:
//   system database (the catalog):     sagas (SUCCEEDED), saga_steps (4);
//   reliable placement (MariaDB):      devices (active), outbox (device.created and
//                                      device.status_changed, already published), the saga's
//                                      step keys in idempotency_keys (2);
//   secure placement (PostgreSQL):     device_credentials, step key in idempotency_keys;
//   edge placement (PostgreSQL):       device_credentials, step key in idempotency_keys;
// with the template's device id and saga id replaced by new ones wherever they appear (ids,
// JSON inputs and outputs, outbox payloads) and a new outbox event id. The tables and their
// indexes then hold what 100,000 real registrations would leave. What a copy does not have: a
// credential that verifies (the token hashes are the template's, so a seeded device cannot
// connect), and distinct timestamps (every copy carries its template's).
import { randomUUID } from 'node:crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { clientConfig } from './pg.mjs';
import { isMysqlPlacement, placementTable } from './tenant-data.mjs';

/** Rows per INSERT statement. */
const CHUNK = 500;

function mysqlConfig(serverUrl) {
  const url = new URL(serverUrl);
  return {
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username || 'root'),
    password: url.password ? decodeURIComponent(url.password) : undefined,
  };
}

/**
 * `value` with every id of `replacements` (a Map old -> new) replaced; a JSON column's value (as
 * pg parses it: object, array, string, number) comes back as JSON text.
 */
function substitute(value, replacements, jsonColumn) {
  if (value === null || value === undefined) return value;
  if (Buffer.isBuffer(value) || value instanceof Date) return value;
  if (!jsonColumn && typeof value !== 'string') return value;
  let text = jsonColumn ? JSON.stringify(value) : value;
  for (const [from, to] of replacements) text = text.replaceAll(from, to);
  return text;
}

/**
 * Copies of `templates` (rows), one set per id pair, with `override(row, pair)` applied last;
 * `jsonColumns` are written back as JSON text.
 */
function copies(templates, pairs, template, { override = (row) => row, jsonColumns = [] } = {}) {
  const out = [];
  for (const pair of pairs) {
    const replacements = new Map([
      [template.deviceId, pair.deviceId],
      [template.sagaId, pair.sagaId],
    ]);
    for (const row of templates) {
      const copy = {};
      for (const [column, value] of Object.entries(row))
        copy[column] = substitute(value, replacements, jsonColumns.includes(column));
      out.push(override(copy, pair));
    }
  }
  return out;
}

/** Multi-row INSERTs of `rows` (objects with the same columns) into `table` on a pg client. */
async function insertPg(client, table, rows, jsonColumns = []) {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]);
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    const params = [];
    const tuples = chunk.map(
      (row) =>
        `(${columns
          .map((c) => {
            params.push(row[c]);
            return `$${params.length}${jsonColumns.includes(c) ? '::jsonb' : ''}`;
          })
          .join(', ')})`,
    );
    await client.query(
      `INSERT INTO ${table} (${columns.map((c) => `"${c}"`).join(', ')}) VALUES ${tuples.join(', ')}`,
      params,
    );
  }
}

/** Multi-row INSERTs on a mysql2 connection. */
async function insertMysql(connection, table, rows) {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]);
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    await connection.query(`INSERT INTO ${table} (${columns.map((c) => `\`${c}\``).join(', ')}) VALUES ?`, [
      chunk.map((row) => columns.map((c) => row[c])),
    ]);
  }
}

/** Rows of `table` (qualified) where `column` = `value`, on pg or mysql. */
async function templateRows(db, table, column, value) {
  if (db.kind === 'mysql')
    return (await db.connection.query(`SELECT * FROM ${table} WHERE \`${column}\` = ?`, [value]))[0];
  return (await db.client.query(`SELECT * FROM ${table} WHERE "${column}" = $1`, [value])).rows;
}

/**
 * Seeds `count` registered devices for each tenant of `tenants` (`[{ slug, count, template: {
 * deviceId, sagaId }, placements: { reliable, secure, edge } }]`), copying the template's rows
 * (see above). `catalogDatabase` is the system database holding the saga log. Ends with ANALYZE
 * of every table it filled (PostgreSQL and MariaDB), so the planners see the seeded sizes as they
 * would see them after the same registrations. Returns the rows written per table.
 */
export async function seedRegisteredDevices(settings, catalogDatabase, tenants, { onProgress = () => {} } = {}) {
  const written = {};
  const count = (name, rows) => (written[name] = (written[name] ?? 0) + rows.length);
  const pgClients = new Map();
  const pgClient = async (database) => {
    if (!pgClients.has(database)) {
      const client = new pg.Client(clientConfig(settings.pgServerUrl, database, 'polystore-bench-seed'));
      await client.connect();
      pgClients.set(database, client);
    }
    return pgClients.get(database);
  };
  const mariadb = await mysql.createConnection({ ...mysqlConfig(settings.mariadbUrl), timezone: 'Z' });
  const analyzed = new Set();
  try {
    const system = await pgClient(catalogDatabase);
    let done = 0;
    for (const tenant of tenants) {
      const { template } = tenant;
      const pairs = Array.from({ length: tenant.count }, () => ({ deviceId: randomUUID(), sagaId: randomUUID() }));

      // The saga log.
      const sagas = await templateRows({ kind: 'pg', client: system }, 'sagas', 'id', template.sagaId);
      const steps = await templateRows({ kind: 'pg', client: system }, 'saga_steps', 'saga_id', template.sagaId);
      if (sagas.length !== 1 || sagas[0].state !== 'SUCCEEDED')
        throw new Error(`template saga ${template.sagaId} of ${tenant.slug} is not one SUCCEEDED saga`);
      const sagaJson = ['input', 'output', 'error'];
      const sagaCopies = copies(sagas, pairs, template, { jsonColumns: sagaJson });
      await insertPg(system, 'sagas', sagaCopies, sagaJson);
      count('system.sagas', sagaCopies);
      const stepJson = ['output', 'error'];
      const stepCopies = copies(steps, pairs, template, { jsonColumns: stepJson });
      await insertPg(system, 'saga_steps', stepCopies, stepJson);
      count('system.saga_steps', stepCopies);

      // Each store's placement.
      for (const store of ['reliable', 'secure', 'edge']) {
        const placement = tenant.placements[store];
        const db = isMysqlPlacement(placement)
          ? { kind: 'mysql', connection: mariadb }
          : { kind: 'pg', client: await pgClient(placement.database) };
        // The participant fence's keys of the template's saga (libs/saga `sagaStepKey`).
        const stepKeys = { name: 'idempotency_keys', column: 'idem_key', like: `saga/${template.sagaId}/` };
        const tables =
          store === 'reliable'
            ? [
                { name: 'devices', column: 'id', value: template.deviceId },
                { name: 'outbox', column: 'payload', like: `%${template.deviceId}` },
                stepKeys,
              ]
            : [{ name: 'device_credentials', column: 'device_id', value: template.deviceId }, stepKeys];
        for (const table of tables) {
          const qualified = placementTable(placement, table.name);
          const rows = table.like
            ? db.kind === 'mysql'
              ? (
                  await db.connection.query(`SELECT * FROM ${qualified} WHERE ${table.column} LIKE ?`, [
                    `${table.like}%`,
                  ])
                )[0]
              : (await db.client.query(`SELECT * FROM ${qualified} WHERE ${table.column} LIKE $1`, [`${table.like}%`]))
                  .rows
            : await templateRows(db, qualified, table.column, table.value);
          if (rows.length === 0) throw new Error(`no template row in ${store}.${table.name} for ${tenant.slug}`);
          const override =
            table.name === 'outbox'
              ? // A new event id; the sequence number is the table's own; already relayed.
                (row) => {
                  const copy = { ...row, event_id: randomUUID(), published_at: row.published_at ?? row.created_at };
                  delete copy.seq;
                  return copy;
                }
              : undefined;
          const rowsCopied = copies(rows, pairs, template, { override });
          if (db.kind === 'mysql') await insertMysql(db.connection, qualified, rowsCopied);
          else await insertPg(db.client, qualified, rowsCopied);
          count(`${store}.${table.name}`, rowsCopied);
          analyzed.add(JSON.stringify({ kind: db.kind, database: placement.database, qualified }));
        }
      }
      done += tenant.count;
      onProgress(done);
    }
    await system.query('ANALYZE sagas');
    await system.query('ANALYZE saga_steps');
    for (const entry of analyzed) {
      const { kind, database, qualified } = JSON.parse(entry);
      if (kind === 'mysql') await mariadb.query(`ANALYZE TABLE ${qualified}`);
      else await (await pgClient(database)).query(`ANALYZE ${qualified}`);
    }
    return written;
  } finally {
    await mariadb.end().catch(() => undefined);
    for (const client of pgClients.values()) await client.end().catch(() => undefined);
  }
}
