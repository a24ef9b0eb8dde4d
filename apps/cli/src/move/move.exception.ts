import { CodedError, ErrorKind } from '#polystore/platform';

export const MoveErrorCode = {
  /** The store name is not one of the catalog's stores. */
  MOVE_UNKNOWN_STORE: 'MOVE_UNKNOWN_STORE',
  /** The target is the server the tenant is already on. */
  MOVE_SAME_SERVER: 'MOVE_SAME_SERVER',
  /** The target speaks another dialect than the source (e.g. MariaDB for a PostgreSQL placement). */
  MOVE_DIALECT_MISMATCH: 'MOVE_DIALECT_MISMATCH',
  /** Moving this kind of placement (engine, table layout) is not implemented. */
  MOVE_NOT_SUPPORTED: 'MOVE_NOT_SUPPORTED',
  /** The target server already holds a database of that name with tables in it. */
  MOVE_TARGET_NOT_EMPTY: 'MOVE_TARGET_NOT_EMPTY',
  MOVE_TARGET_UNREACHABLE: 'MOVE_TARGET_UNREACHABLE',
  MOVE_SOURCE_UNREACHABLE: 'MOVE_SOURCE_UNREACHABLE',
  /** Source and target do not have the same tables, columns or migrations. */
  MOVE_SCHEMA_MISMATCH: 'MOVE_SCHEMA_MISMATCH',
  /** Writes kept the source tables busy for longer than the fence may wait. */
  MOVE_LOCK_TIMEOUT: 'MOVE_LOCK_TIMEOUT',
  /** Row counts or checksums differ between source and target after the copy. */
  MOVE_VERIFICATION_FAILED: 'MOVE_VERIFICATION_FAILED',
  /** The catalog write's outcome is unknown: the source was left closed (fail-safe). */
  MOVE_SWITCH_UNKNOWN: 'MOVE_SWITCH_UNKNOWN',
  /** MariaDB/MySQL: an aborted move could not rename the old tables back; they are in the backup database. */
  MOVE_RESTORE_FAILED: 'MOVE_RESTORE_FAILED',
  /** Switched, but the old copy's sessions could not all be terminated before the fence ended. */
  MOVE_FENCE_INCOMPLETE: 'MOVE_FENCE_INCOMPLETE',
} as const;
export type MoveErrorCode = (typeof MoveErrorCode)[keyof typeof MoveErrorCode];

/**
 * Errors of `tenants move`. Every one raised before the placement switch means the tenant is
 * still served from its old server, which is unlocked and connectable again (the messages say
 * so, for the operator reading them in a terminal). Server ids are `dialect://host:port`: never
 * a password.
 */
export class MoveException extends CodedError<MoveErrorCode> {
  static unknownStore(store: string): MoveException {
    return new MoveException(MoveErrorCode.MOVE_UNKNOWN_STORE, ErrorKind.INVALID_ARGUMENT, `unknown store ${store}`, {
      store,
    });
  }

  static sameServer(server: string): MoveException {
    return new MoveException(
      MoveErrorCode.MOVE_SAME_SERVER,
      ErrorKind.INVALID_ARGUMENT,
      `the tenant is already on ${server}`,
      { server },
    );
  }

  static dialectMismatch(from: string, to: string): MoveException {
    return new MoveException(
      MoveErrorCode.MOVE_DIALECT_MISMATCH,
      ErrorKind.INVALID_ARGUMENT,
      `cannot move a ${from} database to a ${to} server`,
      { from, to },
    );
  }

  static notSupported(what: string): MoveException {
    return new MoveException(
      MoveErrorCode.MOVE_NOT_SUPPORTED,
      ErrorKind.INVALID_ARGUMENT,
      `moving is not supported for ${what}`,
      { what },
    );
  }

  static targetNotEmpty(server: string, database: string): MoveException {
    return new MoveException(
      MoveErrorCode.MOVE_TARGET_NOT_EMPTY,
      ErrorKind.CONFLICT,
      `${server} already has a database ${database} with tables in it (the same server under another name?); nothing was changed`,
      { server, database },
    );
  }

  static targetUnreachable(server: string, reason: string, cause?: unknown): MoveException {
    return new MoveException(
      MoveErrorCode.MOVE_TARGET_UNREACHABLE,
      ErrorKind.UNAVAILABLE,
      `cannot reach the target server ${server} (${reason}); the tenant stays where it is`,
      { server, reason },
      { cause },
    );
  }

  static sourceUnreachable(server: string, reason: string, cause?: unknown): MoveException {
    return new MoveException(
      MoveErrorCode.MOVE_SOURCE_UNREACHABLE,
      ErrorKind.UNAVAILABLE,
      `cannot reach the source server ${server} (${reason}); the tenant stays where it is`,
      { server, reason },
      { cause },
    );
  }

  static schemaMismatch(what: string): MoveException {
    return new MoveException(
      MoveErrorCode.MOVE_SCHEMA_MISMATCH,
      ErrorKind.CONFLICT,
      `source and target schemas differ (${what}); run the tenant migrations first; the tenant stays where it is`,
      { what },
    );
  }

  static lockTimeout(waitedMs: number): MoveException {
    return new MoveException(
      MoveErrorCode.MOVE_LOCK_TIMEOUT,
      ErrorKind.UNAVAILABLE,
      `could not pause the tenant's writes within ${waitedMs} ms (tables kept busy); the tenant stays where it is, retry later`,
      { waitedMs },
    );
  }

  static verificationFailed(tables: readonly string[]): MoveException {
    return new MoveException(
      MoveErrorCode.MOVE_VERIFICATION_FAILED,
      ErrorKind.INTERNAL,
      `copy verification failed for ${tables.join(', ')}; the target was dropped and the tenant stays where it is`,
      { tables },
    );
  }

  static switchUnknown(server: string, database: string, cause?: unknown): MoveException {
    return new MoveException(
      MoveErrorCode.MOVE_SWITCH_UNKNOWN,
      ErrorKind.INTERNAL,
      `could not confirm the placement switch; ${database} on ${server} was left refusing connections so no write can land in it: check the placement (tenants list) and re-allow connections only if it still points there`,
      { server, database },
      { cause },
    );
  }

  static switchUnknownRenamed(server: string, database: string, backup: string, cause?: unknown): MoveException {
    return new MoveException(
      MoveErrorCode.MOVE_SWITCH_UNKNOWN,
      ErrorKind.INTERNAL,
      `could not confirm the placement switch; the tables of ${database} on ${server} were left in ${backup} so no write can land in them: check the placement (tenants list) and rename them back (RENAME TABLE) only if it still points there`,
      { server, database, backup },
      { cause },
    );
  }

  static restoreFailed(server: string, database: string, backup: string, cause?: unknown): MoveException {
    return new MoveException(
      MoveErrorCode.MOVE_RESTORE_FAILED,
      ErrorKind.INTERNAL,
      `the move was aborted, but the tables of ${database} on ${server} could not be renamed back from ${backup}: the placement is unchanged and the tenant is unavailable until they are (RENAME TABLE ${backup}.<t> TO ${database}.<t>)`,
      { server, database, backup },
      { cause },
    );
  }

  static fenceIncomplete(from: string, to: string, cause?: unknown): MoveException {
    return new MoveException(
      MoveErrorCode.MOVE_FENCE_INCOMPLETE,
      ErrorKind.INTERNAL,
      `the tenant now lives on ${to}, but the sessions of its old copy on ${from} could not be terminated: writes that were waiting there may have landed in the old copy; compare it with the new one before dropping it`,
      { from, to },
      { cause },
    );
  }
}
