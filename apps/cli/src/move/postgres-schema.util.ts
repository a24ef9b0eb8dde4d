import type { QueryRunner } from 'typeorm';
import { selectRows } from './query.util.js';
import { MoveException } from './move.exception.js';

/** The only table, column and sequence names the mover handles (what the stores' migrations create). */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Quotes a table, column or sequence name read from the catalog, after checking its shape. */
export function quoteIdent(name: string): string {
  if (!IDENTIFIER.test(name)) throw MoveException.notSupported(`the identifier ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** One column, as the copy needs it. */
export interface ColumnShape {
  readonly name: string;
  /** `format_type()` of the column: compared between source and target, never spliced into SQL. */
  readonly type: string;
  /** Generated columns are recomputed by the target, not copied. */
  readonly generated: boolean;
  /** `GENERATED ALWAYS AS IDENTITY`: inserting it needs `OVERRIDING SYSTEM VALUE`. */
  readonly identityAlways: boolean;
}

/** One table of the tenant database (current schema). */
export interface TableShape {
  readonly name: string;
  readonly columns: readonly ColumnShape[];
}

/** Everything of a tenant database that the copy depends on. */
export interface DatabaseShape {
  readonly tables: readonly TableShape[];
  readonly sequences: readonly string[];
  /** `child -> parents` by foreign key, for the insert order. */
  readonly references: ReadonlyMap<string, readonly string[]>;
}

interface ColumnRow {
  table: string;
  kind: string;
  partition: boolean;
  column: string;
  type: string;
  generated: boolean;
  identity_always: boolean;
}

/**
 * Reads the tables, columns, sequences and foreign keys of the current schema. Refuses what the
 * copy does not handle: partitioned tables, unexpected identifiers, and, in a database of the
 * tenant's own (`alone`), objects in other schemas. (A shared database holds other tenants'
 * schemas: only the tenant's own is read.)
 */
export async function readDatabaseShape(runner: QueryRunner, alone = true): Promise<DatabaseShape> {
  const others = alone
    ? await selectRows<{ schema: string }>(
        runner,
        `SELECT DISTINCT n.nspname AS schema FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p', 'S', 'm') AND n.nspname <> current_schema()
           AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`,
      )
    : [];
  if (others.length > 0) throw MoveException.notSupported(`tables outside the current schema (${others[0]!.schema})`);
  const rows = await selectRows<ColumnRow>(
    runner,
    `SELECT c.relname AS table, c.relkind AS kind, c.relispartition AS partition, a.attname AS column,
            format_type(a.atttypid, a.atttypmod) AS type, a.attgenerated <> '' AS generated,
            a.attidentity = 'a' AS identity_always
     FROM pg_class c
     JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
     ORDER BY c.relname, a.attnum`,
  );
  return {
    tables: tablesOf(rows),
    sequences: await readSequences(runner),
    references: await readReferences(runner),
  };
}

function tablesOf(rows: readonly ColumnRow[]): TableShape[] {
  const tables = new Map<string, ColumnShape[]>();
  for (const row of rows) {
    if (row.kind === 'p' || row.partition) throw MoveException.notSupported(`the partitioned table ${row.table}`);
    quoteIdent(row.table);
    quoteIdent(row.column);
    const columns = tables.get(row.table) ?? [];
    columns.push({
      name: row.column,
      type: row.type,
      generated: row.generated,
      identityAlways: row.identity_always,
    });
    tables.set(row.table, columns);
  }
  return [...tables].map(([name, columns]) => ({ name, columns }));
}

async function readSequences(runner: QueryRunner): Promise<string[]> {
  const rows = await selectRows<{ name: string }>(
    runner,
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'S' AND n.nspname = current_schema() ORDER BY c.relname`,
  );
  return rows.map((r) => (quoteIdent(r.name), r.name));
}

async function readReferences(runner: QueryRunner): Promise<Map<string, string[]>> {
  const rows = await selectRows<{ child: string; parent: string }>(
    runner,
    `SELECT child.relname AS child, parent.relname AS parent
     FROM pg_constraint k
     JOIN pg_class child ON child.oid = k.conrelid
     JOIN pg_class parent ON parent.oid = k.confrelid
     JOIN pg_namespace n ON n.oid = child.relnamespace
     WHERE k.contype = 'f' AND n.nspname = current_schema()`,
  );
  const references = new Map<string, string[]>();
  for (const { child, parent } of rows) references.set(child, [...(references.get(child) ?? []), parent]);
  return references;
}

/** A stable text of the shape, so two databases compare in one line (and a diff names the table). */
export function shapeSignature(table: TableShape): string {
  return `${table.name}(${table.columns.map((c) => `${c.name} ${c.type}${c.generated ? ' generated' : ''}`).join(', ')})`;
}

/** The first difference between two shapes, or undefined when they match. */
export function shapeDifference(source: DatabaseShape, target: DatabaseShape): string | undefined {
  const theirs = new Map(target.tables.map((t) => [t.name, shapeSignature(t)]));
  for (const table of source.tables) {
    const mine = shapeSignature(table);
    const other = theirs.get(table.name);
    if (other === undefined) return `table ${table.name} is missing on the target`;
    if (other !== mine) return `table ${table.name}: ${mine} vs ${other}`;
    theirs.delete(table.name);
  }
  const extra = [...theirs.keys()][0];
  if (extra !== undefined) return `table ${extra} exists only on the target`;
  if (source.sequences.join() !== target.sequences.join()) return 'sequences differ';
  return undefined;
}

/** Tables ordered so that every table comes after the tables its foreign keys point to. */
export function insertOrder(shape: DatabaseShape): TableShape[] {
  const byName = new Map(shape.tables.map((t) => [t.name, t]));
  const ordered: TableShape[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    // A cycle (or a row referencing a later row of its own table) cannot be ordered; the target's
    // constraints then refuse the copy and the move aborts cleanly.
    if (seen.has(name)) return;
    seen.add(name);
    for (const parent of shape.references.get(name) ?? []) visit(parent);
    const table = byName.get(name);
    if (table) ordered.push(table);
  };
  for (const table of shape.tables) visit(table.name);
  return ordered;
}
