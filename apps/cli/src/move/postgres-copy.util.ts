import type { QueryRunner } from 'typeorm';
import { selectRows } from './query.util.js';
import type { TableDigest } from './move-report.js';
import { quoteIdent, type TableShape } from './postgres-schema.util.js';

/**
 * Output settings that make a row's text form identical on both servers whatever their
 * defaults: the copy carries rows as text and the checksums hash that text. `SET LOCAL`, not
 * a `SELECT set_config()`: on the source, no statement may take the snapshot before the fence.
 */
export const EXACT_TEXT_SETTINGS = [
  "SET LOCAL TimeZone = 'UTC'",
  "SET LOCAL DateStyle = 'ISO, YMD'",
  "SET LOCAL IntervalStyle = 'postgres'",
  'SET LOCAL extra_float_digits = 1',
  "SET LOCAL bytea_output = 'hex'",
] as const;

export async function applyExactTextSettings(runner: QueryRunner): Promise<void> {
  for (const statement of EXACT_TEXT_SETTINGS) await runner.query(statement);
}

const CURSOR = 'polystore_move_rows';

/**
 * Copies every row of `table` from the source transaction to the target transaction in batches.
 * Rows travel as their composite text form (`t::text`) and are parsed back with the table's own
 * row type (`text::table`), so every column keeps its exact value and type (bytea, jsonb,
 * timestamptz to the microsecond, arrays) without the driver converting anything. Returns the
 * number of rows copied.
 */
export async function copyTable(
  source: QueryRunner,
  target: QueryRunner,
  table: TableShape,
  batchRows: number,
): Promise<number> {
  const name = quoteIdent(table.name);
  const columns = table.columns.filter((c) => !c.generated).map((c) => quoteIdent(c.name));
  const overriding = table.columns.some((c) => c.identityAlways) ? ' OVERRIDING SYSTEM VALUE' : '';
  const insert =
    `INSERT INTO ${name} (${columns.join(', ')})${overriding} ` +
    `SELECT ${columns.map((c) => `(r).${c}`).join(', ')} ` +
    `FROM (SELECT row_text::${name} AS r FROM unnest($1::text[]) AS u(row_text)) AS s`;
  await source.query(`DECLARE ${CURSOR} NO SCROLL CURSOR FOR SELECT t::text AS row_text FROM ${name} t`);
  let copied = 0;
  try {
    for (;;) {
      const rows = await selectRows<{ row_text: string }>(source, `FETCH ${Math.floor(batchRows)} FROM ${CURSOR}`);
      if (rows.length === 0) break;
      await target.query(insert, [rows.map((r) => r.row_text)]);
      copied += rows.length;
    }
  } finally {
    await source.query(`CLOSE ${CURSOR}`).catch(() => undefined);
  }
  return copied;
}

/**
 * Row count and checksum of `table` as seen by `runner`'s transaction: md5 of the ordered md5s of
 * the rows' text forms (byte order, so the servers' collations do not matter). Memory on the
 * server is 32 bytes per row.
 */
export async function digestTable(runner: QueryRunner, table: TableShape): Promise<TableDigest> {
  const rows = await selectRows<{ row_count: string; checksum: string }>(
    runner,
    `SELECT count(*)::text AS row_count,
            md5(coalesce(string_agg(h, '' ORDER BY h COLLATE "C"), '')) AS checksum
     FROM (SELECT md5(t::text) AS h FROM ${quoteIdent(table.name)} t) AS hashed`,
  );
  return { rows: Number(rows[0]!.row_count), checksum: rows[0]!.checksum };
}

/** Carries each sequence's position over (`setval` with the source's `last_value, is_called`). */
export async function copySequences(
  source: QueryRunner,
  target: QueryRunner,
  sequences: readonly string[],
): Promise<void> {
  for (const sequence of sequences) {
    const quoted = quoteIdent(sequence);
    const rows = await selectRows<{ last_value: string; is_called: boolean }>(
      source,
      `SELECT last_value::text AS last_value, is_called FROM ${quoted}`,
    );
    await target.query('SELECT setval($1::regclass, $2::bigint, $3)', [
      quoted,
      rows[0]!.last_value,
      rows[0]!.is_called,
    ]);
  }
}

/** Empties the target's tables (migrations may seed rows, e.g. the audit chain's head). */
export async function emptyTables(target: QueryRunner, tables: readonly TableShape[]): Promise<void> {
  if (tables.length === 0) return;
  await target.query(`TRUNCATE ${tables.map((t) => quoteIdent(t.name)).join(', ')}`);
}
