import { isUnreachable } from './internal/failure.js';

/** What a database error means to the code that got it, whatever the dialect. */
export type SqlFailure =
  /** A unique or primary key constraint refused the write. */
  | 'unique_violation'
  /** The transaction was chosen as a deadlock victim: retry it. */
  | 'deadlock'
  /** A lock could not be obtained in time: retry it. */
  | 'lock_timeout'
  /** A serializable transaction could not be serialized: retry it. */
  | 'serialization'
  /** The database is unreachable or the connection was lost: retry it (idempotently). */
  | 'connection'
  | 'other';

/** PostgreSQL SQLSTATE -> meaning. */
const POSTGRES: Record<string, SqlFailure> = {
  '23505': 'unique_violation',
  '40P01': 'deadlock',
  '55P03': 'lock_timeout',
  '40001': 'serialization',
};

/** MySQL/MariaDB error number -> meaning (mysql2 exposes it as `errno`). */
const MYSQL: Record<number, SqlFailure> = {
  1062: 'unique_violation', // ER_DUP_ENTRY
  1586: 'unique_violation', // ER_DUP_ENTRY_WITH_KEY_NAME
  1213: 'deadlock', // ER_LOCK_DEADLOCK
  1205: 'lock_timeout', // ER_LOCK_WAIT_TIMEOUT
};

function driverError(error: unknown): { code?: unknown; errno?: unknown } {
  if (typeof error !== 'object' || error === null) return {};
  const wrapped = (error as { driverError?: unknown }).driverError;
  return typeof wrapped === 'object' && wrapped !== null ? wrapped : error;
}

/**
 * The PostgreSQL SQLSTATE of `error`: the driver's, TypeORM's `QueryFailedError` or one wrapped
 * as a `cause` (a `DataRouterException`, say); undefined for anything else (`ECONNREFUSED`...).
 */
export function sqlStateOf(error: unknown, depth = 0): string | undefined {
  if (depth > 4 || typeof error !== 'object' || error === null) return undefined;
  const { code, cause, driverError } = error as { code?: unknown; cause?: unknown; driverError?: unknown };
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  return sqlStateOf(driverError, depth + 1) ?? sqlStateOf(cause, depth + 1);
}

/** The MySQL/MariaDB error number of `error` (TypeORM's `QueryFailedError` or the driver's), if any. */
export function mysqlErrnoOf(error: unknown): number | undefined {
  const { errno } = driverError(error);
  return typeof errno === 'number' ? errno : undefined;
}

/**
 * Classifies a database error by SQLSTATE (PostgreSQL) or error number (MySQL/MariaDB), never
 * by message text. Works on TypeORM's `QueryFailedError` and on raw driver errors.
 */
export function classifySqlError(error: unknown): SqlFailure {
  const { code, errno } = driverError(error);
  if (typeof errno === 'number' && MYSQL[errno]) return MYSQL[errno];
  if (typeof code === 'string' && POSTGRES[code]) return POSTGRES[code];
  if (isUnreachable(error)) return 'connection';
  return 'other';
}

/** True for failures that a retry of the whole transaction can cure. */
export function isTransientSqlError(error: unknown): boolean {
  const failure = classifySqlError(error);
  return (
    failure === 'deadlock' || failure === 'lock_timeout' || failure === 'serialization' || failure === 'connection'
  );
}
