import type { QueryRunner } from 'typeorm';

/** Rows of a query on one connection, typed by the caller (TypeORM's `QueryRunner.query` is untyped). */
export function selectRows<T>(runner: QueryRunner, sql: string, parameters?: unknown[]): Promise<T[]> {
  return runner.query(sql, parameters) as Promise<T[]>;
}

/**
 * The migrations recorded in a database, as one comparable string (`a, b, c`): a move copies
 * only between databases whose stores applied the same ones. `quotedTable` is already quoted.
 */
export async function appliedMigrations(runner: QueryRunner, quotedTable: string): Promise<string> {
  const rows = await selectRows<{ name: string }>(runner, `SELECT name FROM ${quotedTable} ORDER BY name`);
  return rows.map((r) => r.name).join(', ');
}
