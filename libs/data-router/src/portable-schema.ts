import type { QueryRunner } from 'typeorm';

/** SQL dialects a portable migration can target. */
export type SqlDialect = 'postgres' | 'mysql';

/** The dialect of the database a migration runs on (MariaDB counts as MySQL). */
export function sqlDialectOf(queryRunner: QueryRunner): SqlDialect {
  const type = queryRunner.connection.options.type;
  if (type === 'postgres') return 'postgres';
  if (type === 'mysql' || type === 'mariadb') return 'mysql';
  throw new Error(`portable migrations do not support ${type}`);
}

/**
 * Column types that mean the same thing on PostgreSQL and MySQL/MariaDB, for migrations written
 * once with TypeORM's `Table` API: UTC timestamps with milliseconds, long text, UUID text.
 */
export function portableTypes(dialect: SqlDialect) {
  return dialect === 'postgres'
    ? { timestamp: 'timestamptz', longText: 'text', uuid: 'uuid', double: 'double precision' }
    : { timestamp: 'datetime', longText: 'mediumtext', uuid: 'char', double: 'double' };
}

/** Options of a UUID column for `portableTypes(dialect).uuid` (CHAR(36) on MySQL). */
export function uuidLength(dialect: SqlDialect): string | undefined {
  return dialect === 'mysql' ? '36' : undefined;
}

/** Millisecond precision of timestamps on both dialects. */
export const TIMESTAMP_PRECISION = 3;
