import { CodedError, ErrorKind } from '#polystore/platform';

export const OperationErrorCode = {
  /** The tenant already has a queued or running operation in that store: one at a time. */
  OPERATION_IN_PROGRESS: 'OPERATION_IN_PROGRESS',
  OPERATION_NOT_FOUND: 'OPERATION_NOT_FOUND',
} as const;
export type OperationErrorCode = (typeof OperationErrorCode)[keyof typeof OperationErrorCode];

/** Errors of the catalog's operation requests (`OperationRequests`). */
export class OperationException extends CodedError<OperationErrorCode> {
  static inProgress(tenant: string, store: string, existing: string | null): OperationException {
    return new OperationException(
      OperationErrorCode.OPERATION_IN_PROGRESS,
      ErrorKind.CONFLICT,
      `the ${store} placement of ${tenant} already has an operation queued or running${existing ? ` (${existing})` : ''}: wait until it has finished`,
      { tenant, store, ...(existing ? { operation: existing } : {}) },
    );
  }

  static notFound(id: string): OperationException {
    return new OperationException(OperationErrorCode.OPERATION_NOT_FOUND, ErrorKind.NOT_FOUND, `no operation ${id}`, {
      operation: id,
    });
  }
}
