import type { QueryRunner } from 'typeorm';

/** Rows of a query on one connection, typed by the caller (TypeORM's `QueryRunner.query` is untyped). */
export function selectRows<T>(runner: QueryRunner, sql: string, parameters?: unknown[]): Promise<T[]> {
  return runner.query(sql, parameters) as Promise<T[]>;
}
