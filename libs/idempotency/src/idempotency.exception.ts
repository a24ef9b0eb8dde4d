import { CodedError, ErrorKind } from '#polystore/platform';

export const IdempotencyErrorCode = {
  /** The key was used before with another request. */
  IDEMPOTENCY_MISMATCH: 'IDEMPOTENCY_MISMATCH',
  /** The key is malformed. */
  INVALID_IDEMPOTENCY_KEY: 'INVALID_IDEMPOTENCY_KEY',
} as const;
export type IdempotencyErrorCode = (typeof IdempotencyErrorCode)[keyof typeof IdempotencyErrorCode];

/** Errors raised by `libs/idempotency`. */
export class IdempotencyException extends CodedError<IdempotencyErrorCode> {
  static mismatch(): IdempotencyException {
    return new IdempotencyException(
      IdempotencyErrorCode.IDEMPOTENCY_MISMATCH,
      ErrorKind.CONFLICT,
      'this idempotency key was already used with a different request',
    );
  }

  static invalidKey(): IdempotencyException {
    return new IdempotencyException(
      IdempotencyErrorCode.INVALID_IDEMPOTENCY_KEY,
      ErrorKind.INVALID_ARGUMENT,
      'idempotencyKey must be 1-200 characters of [A-Za-z0-9._:-]',
    );
  }
}
