/** Socket-level and driver codes that mean "the database cannot be reached or used right now". */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'EAI_AGAIN',
  // mysql2
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_BAD_DB_ERROR',
  'ER_CON_COUNT_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_ACCESS_DENIED_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_UNKNOWN_COM_ERROR',
  // The database was dropped under open connections: its tables are gone.
  'ER_NO_SUCH_TABLE',
  'ER_NO_DB_ERROR',
  // TLS (`sslmode`): the server offers no TLS, refuses plaintext, or its certificate does not verify.
  'HANDSHAKE_NO_SSL_SUPPORT',
  'HANDSHAKE_SSL_ERROR',
  'ER_SECURE_TRANSPORT_REQUIRED',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

/** PostgreSQL SQLSTATEs (class 08 connection exception, 57P operator intervention, ...). */
const UNREACHABLE_SQLSTATES = new Set([
  '3D000', // invalid_catalog_name: the database does not exist
  '42P01', // undefined_table: the database is not (or no longer) migrated
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '28000',
  '28P01',
  '53300', // too_many_connections
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
]);

/** MySQL/MariaDB error numbers with the same meaning. */
const UNREACHABLE_ERRNOS = new Set([1040, 1044, 1045, 1046, 1049, 1053, 1146, 2002, 2003, 2006, 2013]);

/**
 * MongoDB driver error classes (by `name`, stable across driver versions) that mean the server
 * cannot be reached: no server selectable within `serverSelectionTimeoutMS`, a network error or
 * timeout, a closed client or a pool cleared after a network error.
 */
const MONGO_UNREACHABLE_NAMES = new Set([
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoTopologyClosedError',
  'MongoNotConnectedError',
  'MongoPoolClearedError',
  'MongoServerClosedError',
]);

/** MongoDB server error codes (numeric `code` of a `Mongo*` error) with the same meaning. */
const MONGO_UNREACHABLE_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  18, // AuthenticationFailed
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/**
 * node-postgres reports a dropped or timed-out connection, and a server without TLS, without any
 * code; these messages are the driver's fixed texts for it, the only place where text is matched.
 */
const PG_CODELESS_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  // `sslmode` set and the server answered the SSL request with "no".
  'The server does not support SSL connections',
];

/**
 * PostgreSQL's `55000` (object not in prerequisite state) is a query-level error in general, but
 * at severity `FATAL` the server is ending the session: it is how a connection to a database
 * with `ALLOW_CONNECTIONS false` is refused (e.g. the old copy of a moved tenant).
 */
function isRefusedDatabase(code: unknown, severity: unknown): boolean {
  return code === '55000' && severity === 'FATAL';
}

function codesOf(error: unknown): { code?: unknown; errno?: unknown; message?: unknown; name?: unknown } {
  return typeof error === 'object' && error !== null ? error : {};
}

/** The class name of a MongoDB driver error (`MongoServerError`, `MongoNetworkError`...), if it is one. */
function mongoErrorName(name: unknown): string | undefined {
  return typeof name === 'string' && name.startsWith('Mongo') ? name : undefined;
}

/**
 * True when `error` says the database is unreachable or unusable, as opposed to a query-level
 * failure (constraint, syntax) that says nothing about the database's health. A missing table
 * counts as unusable: a tenant database without its store's tables was dropped or never
 * migrated, and serving it would only produce 500s. Looks through
 * TypeORM's `driverError` and `cause` chains.
 */
export function isUnreachable(error: unknown, depth = 0): boolean {
  if (depth > 4 || typeof error !== 'object' || error === null) return false;
  const { code, errno, message, name } = codesOf(error);
  if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || UNREACHABLE_SQLSTATES.has(code))) return true;
  if (isRefusedDatabase(code, (error as { severity?: unknown }).severity)) return true;
  if (typeof errno === 'number' && UNREACHABLE_ERRNOS.has(errno)) return true;
  const mongo = mongoErrorName(name);
  if (
    mongo &&
    (MONGO_UNREACHABLE_NAMES.has(mongo) || (typeof code === 'number' && MONGO_UNREACHABLE_CODES.has(code)))
  ) {
    return true;
  }
  if (typeof message === 'string' && code === undefined && PG_CODELESS_MESSAGES.some((m) => message.startsWith(m))) {
    return true;
  }
  const nested = error as { driverError?: unknown; cause?: unknown; errors?: unknown };
  if (Array.isArray(nested.errors) && nested.errors.some((e) => isUnreachable(e, depth + 1))) return true;
  return isUnreachable(nested.driverError, depth + 1) || isUnreachable(nested.cause, depth + 1);
}

/** A short, safe reason for logs and error messages (a code, never a message with SQL). */
export function failureReason(error: unknown): string {
  const { code, errno, name } = codesOf(error);
  if (typeof code === 'string') return code;
  if (typeof errno === 'number') return `errno ${errno}`;
  const mongo = mongoErrorName(name);
  if (mongo) return typeof code === 'number' ? `${mongo} ${code}` : mongo;
  const nested = error as { driverError?: unknown; cause?: unknown } | null;
  if (nested?.driverError) return failureReason(nested.driverError);
  if (nested?.cause) return failureReason(nested.cause);
  return 'connection failed';
}
