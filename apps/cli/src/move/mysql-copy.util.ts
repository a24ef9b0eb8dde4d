import type { QueryRunner } from 'typeorm';
import { selectRows } from './query.util.js';
import type { TableDigest } from './move-report.js';
import { quoteMysqlIdent, type MysqlTableShape } from './mysql-schema.util.js';

/**
 * Session settings that make values and their text form identical on both servers: UTC for
 * `TIMESTAMP` columns, room for the checksums' `GROUP_CONCAT` (32 bytes per row).
 */
export async function applyMysqlSessionSettings(runner: QueryRunner): Promise<void> {
  await runner.query("SET SESSION time_zone = '+00:00'");
  await runner.query('SET SESSION group_concat_max_len = 4294967295');
}

/**
 * Copies every row of `table` from the source session to the target session in batches, paged
 * by primary key (the source is write-locked: the pages are stable). The DataSources are opened
 * with `dateStrings` and `bigNumberStrings`, so dates, decimals and big integers travel as the
 * server's own text and binary columns as bytes; the checksums then prove the copy exact.
 */
export async function copyMysqlTable(
  source: QueryRunner,
  target: QueryRunner,
  table: MysqlTableShape,
  batchRows: number,
): Promise<number> {
  const name = quoteMysqlIdent(table.name);
  const columns = table.columns.filter((c) => !c.generated).map((c) => quoteMysqlIdent(c.name));
  const order = table.primaryKey.map(quoteMysqlIdent).join(', ');
  const limit = Math.max(1, Math.floor(batchRows));
  const placeholders = `(${columns.map(() => '?').join(', ')})`;
  let copied = 0;
  for (;;) {
    const rows = await selectRows<Record<string, unknown>>(
      source,
      `SELECT ${columns.join(', ')} FROM ${name} ORDER BY ${order} LIMIT ${limit} OFFSET ${copied}`,
    );
    if (rows.length === 0) break;
    const values = rows.flatMap((row) => table.columns.filter((c) => !c.generated).map((c) => row[c.name]));
    await target.query(
      `INSERT INTO ${name} (${columns.join(', ')}) VALUES ${rows.map(() => placeholders).join(', ')}`,
      values,
    );
    copied += rows.length;
    if (rows.length < limit) break;
  }
  return copied;
}

/**
 * Row count and checksum of `table` as seen by `runner`: md5 of the sorted md5s of each row's
 * `QUOTE()`d columns (NULL and '' differ, separators cannot be forged by a value). Computed by the
 * server, so the driver's conversions play no part in it.
 */
export async function digestMysqlTable(runner: QueryRunner, table: MysqlTableShape): Promise<TableDigest> {
  const columns = table.columns.map((c) => `QUOTE(${quoteMysqlIdent(c.name)})`).join(', ');
  const rows = await selectRows<{ row_count: number | string; checksum: string }>(
    runner,
    `SELECT COUNT(*) AS row_count, MD5(COALESCE(GROUP_CONCAT(h ORDER BY h SEPARATOR ''), '')) AS checksum
     FROM (SELECT MD5(CONCAT_WS(',', ${columns})) AS h FROM ${quoteMysqlIdent(table.name)}) AS hashed`,
  );
  return { rows: Number(rows[0]!.row_count), checksum: rows[0]!.checksum };
}

/** Empties the target's tables inside its transaction (`DELETE`: `TRUNCATE` would commit it). */
export async function emptyMysqlTables(target: QueryRunner, tables: readonly MysqlTableShape[]): Promise<void> {
  for (const table of tables) await target.query(`DELETE FROM ${quoteMysqlIdent(table.name)}`);
}

/**
 * Carries each table's `AUTO_INCREMENT` position over (a counter past deleted rows must not be
 * reused: the outbox's sequence numbers only grow). DDL: run after the target's commit.
 */
export async function copyAutoIncrements(target: QueryRunner, tables: readonly MysqlTableShape[]): Promise<number> {
  let carried = 0;
  for (const table of tables) {
    if (table.autoIncrement === null) continue;
    const next = Math.floor(table.autoIncrement);
    if (!Number.isSafeInteger(next) || next < 1) continue;
    await target.query(`ALTER TABLE ${quoteMysqlIdent(table.name)} AUTO_INCREMENT = ${next}`);
    carried++;
  }
  return carried;
}
