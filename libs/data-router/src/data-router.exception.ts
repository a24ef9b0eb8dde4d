import { CodedError, ErrorKind } from '#polystore/platform';

export const DataRouterErrorCode = {
  /** The server's connection budget is used by busy DataSources and the wait timed out or the queue is full. */
  STORE_BUSY: 'STORE_BUSY',
  /** The tenant's database cannot be reached (down, missing, refusing), or its circuit is open. */
  DATABASE_UNAVAILABLE: 'DATABASE_UNAVAILABLE',
  /** A placement from the catalog is unusable (bad database name or server URL). */
  INVALID_PLACEMENT: 'INVALID_PLACEMENT',
  /** The router is shutting down. */
  ROUTER_CLOSED: 'ROUTER_CLOSED',
} as const;
export type DataRouterErrorCode = (typeof DataRouterErrorCode)[keyof typeof DataRouterErrorCode];

/** Errors raised by `libs/data-router`. Messages name the database, never credentials or SQL. */
export class DataRouterException extends CodedError<DataRouterErrorCode> {
  static busy(server: string, reason: 'queue full' | 'wait timed out'): DataRouterException {
    return new DataRouterException(
      DataRouterErrorCode.STORE_BUSY,
      ErrorKind.UNAVAILABLE,
      `store busy: every database connection is in use (${reason}); retry shortly`,
      { server, reason, retryAfterSeconds: 1 },
    );
  }

  static unavailable(database: string, reason: string, cause?: unknown): DataRouterException {
    return new DataRouterException(
      DataRouterErrorCode.DATABASE_UNAVAILABLE,
      ErrorKind.UNAVAILABLE,
      'tenant database unavailable',
      { database, reason },
      { cause },
    );
  }

  static invalidPlacement(what: string): DataRouterException {
    return new DataRouterException(
      DataRouterErrorCode.INVALID_PLACEMENT,
      ErrorKind.INTERNAL,
      `invalid placement: ${what}`,
    );
  }

  static closed(): DataRouterException {
    return new DataRouterException(
      DataRouterErrorCode.ROUTER_CLOSED,
      ErrorKind.UNAVAILABLE,
      'data router is shutting down',
    );
  }
}
