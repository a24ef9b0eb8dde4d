import type { QueryRunner } from 'typeorm';
import { selectRows } from './query.util.js';
import { MoveException } from './move.exception.js';

/** The only table and column names the mover handles (what the stores' migrations create). */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Quotes a table or column name read from `information_schema`, after checking its shape. */
export function quoteMysqlIdent(name: string): string {
  if (!IDENTIFIER.test(name)) throw MoveException.notSupported(`the identifier ${JSON.stringify(name)}`);
  return `\`${name}\``;
}

/** One column, as the copy needs it. */
export interface MysqlColumnShape {
  readonly name: string;
  /** `COLUMN_TYPE` (e.g. `datetime(3)`): compared between source and target, never spliced into SQL. */
  readonly type: string;
  readonly nullable: boolean;
  /** Generated (virtual or stored) columns are recomputed by the target, not copied. */
  readonly generated: boolean;
}

/** One base table of the tenant database. */
export interface MysqlTableShape {
  readonly name: string;
  readonly columns: readonly MysqlColumnShape[];
  /** Primary key columns in key order: the copy pages by them. */
  readonly primaryKey: readonly string[];
  /** The table's next `AUTO_INCREMENT` value, when it has such a column. */
  readonly autoIncrement: number | null;
}

/** Everything of a tenant database that the copy depends on. */
export interface MysqlDatabaseShape {
  readonly tables: readonly MysqlTableShape[];
}

interface TableRow {
  table_name: string;
  table_type: string;
  auto_increment: number | string | null;
}

interface ColumnRow {
  table_name: string;
  column_name: string;
  column_type: string;
  is_nullable: string;
  extra: string;
  column_key: string;
}

/**
 * Reads the shape of `database` from `information_schema` (allowed under `LOCK TABLES`).
 * Refused with `MOVE_NOT_SUPPORTED`: views, triggers, routines and events (a rename or a copy
 * would not carry them), tables without a primary key, identifiers the mover does not quote.
 */
export async function readMysqlShape(runner: QueryRunner, database: string): Promise<MysqlDatabaseShape> {
  const tableRows = await selectRows<TableRow>(
    runner,
    `SELECT TABLE_NAME AS table_name, TABLE_TYPE AS table_type, AUTO_INCREMENT AS auto_increment
     FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME`,
    [database],
  );
  const notTable = tableRows.find((t) => t.table_type !== 'BASE TABLE');
  if (notTable) throw MoveException.notSupported(`the ${notTable.table_type.toLowerCase()} ${notTable.table_name}`);
  const others = await selectRows<{ kind: string; name: string }>(
    runner,
    `SELECT 'trigger' AS kind, TRIGGER_NAME AS name FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?
     UNION ALL SELECT 'routine', ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?
     UNION ALL SELECT 'event', EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?`,
    [database, database, database],
  );
  if (others.length > 0) throw MoveException.notSupported(`the ${others[0]!.kind} ${others[0]!.name}`);
  const columnRows = await selectRows<ColumnRow>(
    runner,
    `SELECT TABLE_NAME AS table_name, COLUMN_NAME AS column_name, COLUMN_TYPE AS column_type,
            IS_NULLABLE AS is_nullable, EXTRA AS extra, COLUMN_KEY AS column_key
     FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION`,
    [database],
  );
  const keyRows = await selectRows<{ table_name: string; column_name: string }>(
    runner,
    `SELECT TABLE_NAME AS table_name, COLUMN_NAME AS column_name FROM information_schema.KEY_COLUMN_USAGE
     WHERE TABLE_SCHEMA = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY TABLE_NAME, ORDINAL_POSITION`,
    [database],
  );
  const tables = tableRows.map((t): MysqlTableShape => {
    quoteMysqlIdent(t.table_name);
    const columns = columnRows
      .filter((c) => c.table_name === t.table_name)
      .map((c) => {
        quoteMysqlIdent(c.column_name);
        return {
          name: c.column_name,
          type: c.column_type,
          nullable: c.is_nullable === 'YES',
          generated: /\b(VIRTUAL|STORED|PERSISTENT) GENERATED\b/i.test(c.extra),
        };
      });
    const primaryKey = keyRows.filter((k) => k.table_name === t.table_name).map((k) => k.column_name);
    if (primaryKey.length === 0) throw MoveException.notSupported(`the table ${t.table_name} without a primary key`);
    const hasAutoIncrement = columnRows.some((c) => c.table_name === t.table_name && /auto_increment/i.test(c.extra));
    return {
      name: t.table_name,
      columns,
      primaryKey,
      autoIncrement: hasAutoIncrement && t.auto_increment !== null ? Number(t.auto_increment) : null,
    };
  });
  return { tables };
}

/** What differs between two shapes (tables, columns, types, keys), or undefined. */
export function mysqlShapeDifference(source: MysqlDatabaseShape, target: MysqlDatabaseShape): string | undefined {
  const signature = (t: MysqlTableShape) =>
    `${t.name}(${t.columns.map((c) => `${c.name} ${c.type}${c.nullable ? '' : ' not null'}${c.generated ? ' generated' : ''}`).join(', ')}; pk ${t.primaryKey.join(',')})`;
  const mine = new Map(source.tables.map((t) => [t.name, signature(t)]));
  const theirs = new Map(target.tables.map((t) => [t.name, signature(t)]));
  for (const [name, sig] of mine) {
    if (!theirs.has(name)) return `table ${name} missing on the target`;
    if (theirs.get(name) !== sig) return `table ${name} differs: ${sig} vs ${theirs.get(name)}`;
  }
  for (const name of theirs.keys()) if (!mine.has(name)) return `table ${name} missing on the source`;
  return undefined;
}
