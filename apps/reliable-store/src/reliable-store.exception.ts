import { CodedError, ErrorKind } from '#polystore/platform';

export const ReliableStoreErrorCode = {
  DEVICE_NOT_FOUND: 'DEVICE_NOT_FOUND',
  /** A device with this id already exists (created under another idempotency key). */
  DEVICE_EXISTS: 'DEVICE_EXISTS',
  /** Optimistic lock: the device changed since the version the caller read. */
  VERSION_CONFLICT: 'VERSION_CONFLICT',
  /** The status change is not allowed from the device's current status. */
  INVALID_TRANSITION: 'INVALID_TRANSITION',
  INVALID_CURSOR: 'INVALID_CURSOR',
  INVALID_PERIOD: 'INVALID_PERIOD',
} as const;
export type ReliableStoreErrorCode = (typeof ReliableStoreErrorCode)[keyof typeof ReliableStoreErrorCode];

/** Errors raised by the reliable store. */
export class ReliableStoreException extends CodedError<ReliableStoreErrorCode> {
  static deviceNotFound(id: string): ReliableStoreException {
    return new ReliableStoreException(
      ReliableStoreErrorCode.DEVICE_NOT_FOUND,
      ErrorKind.NOT_FOUND,
      `device ${id} not found`,
      { id },
    );
  }

  static deviceExists(id: string): ReliableStoreException {
    return new ReliableStoreException(
      ReliableStoreErrorCode.DEVICE_EXISTS,
      ErrorKind.CONFLICT,
      `device ${id} already exists`,
      { id },
    );
  }

  static versionConflict(id: string, expected: number, actual: number): ReliableStoreException {
    return new ReliableStoreException(
      ReliableStoreErrorCode.VERSION_CONFLICT,
      ErrorKind.CONFLICT,
      `device ${id} is at version ${actual}, not ${expected}`,
      { id, expected, actual },
    );
  }

  static invalidTransition(from: string, to: string): ReliableStoreException {
    return new ReliableStoreException(
      ReliableStoreErrorCode.INVALID_TRANSITION,
      ErrorKind.CONFLICT,
      `a ${from} device cannot become ${to}`,
      { from, to },
    );
  }

  static invalidCursor(): ReliableStoreException {
    return new ReliableStoreException(
      ReliableStoreErrorCode.INVALID_CURSOR,
      ErrorKind.INVALID_ARGUMENT,
      'cursor is invalid',
    );
  }

  static invalidPeriod(message: string): ReliableStoreException {
    return new ReliableStoreException(ReliableStoreErrorCode.INVALID_PERIOD, ErrorKind.INVALID_ARGUMENT, message);
  }
}
