import { CodedError, ErrorKind, isErrorKind } from '#polystore/platform';
import { isBusinessKind, SagaState, type SagaRecord } from '#polystore/saga';

/** Code of the answer for an operation whose saga gave up (an outage outlasted it) and was undone. */
export const OPERATION_ABANDONED = 'OPERATION_ABANDONED';

/**
 * A saga that ended without doing its work, as the answer a client gets, the same every time it
 * asks (with the same `Idempotency-Key`): a business failure as its step reported it (400, 404,
 * 409, ...); anything else (a store that never answered within the window, the deadline, an
 * internal error) as `409 OPERATION_ABANDONED`, never a `503` that would invite a retry of the
 * same key: the operation is over, and a new key starts it again.
 */
export function sagaFailure(saga: SagaRecord): CodedError {
  const error = (saga.error ?? {}) as { code?: unknown; kind?: unknown; message?: unknown; step?: unknown };
  const code = typeof error.code === 'string' ? error.code : 'SAGA_FAILED';
  const kind = isErrorKind(error.kind) ? error.kind : ErrorKind.INTERNAL;
  const message = typeof error.message === 'string' ? error.message : `operation failed (${saga.state})`;
  if (isBusinessKind(kind)) return new CodedError(code, kind, message, { sagaId: saga.id, state: saga.state });
  const undone = saga.state === SagaState.COMPENSATION_FAILED ? 'its undo waits for an operator' : 'it was undone';
  return new CodedError(
    OPERATION_ABANDONED,
    ErrorKind.CONFLICT,
    `the operation did not complete and ${undone} (${code}: ${message}); send it again with a new Idempotency-Key`,
    {
      sagaId: saga.id,
      state: saga.state,
      cause: { code, message, ...(typeof error.step === 'string' ? { step: error.step } : {}) },
    },
  );
}

/** True when the saga did what it was started for. */
export function succeeded(saga: SagaRecord): boolean {
  return saga.state === SagaState.SUCCEEDED;
}

/**
 * True while the saga may still complete (the caller answers 202). A COMPENSATING saga has
 * failed: the caller answers with its error while the compensation goes on.
 */
export function stillRunning(saga: SagaRecord): boolean {
  return saga.state === SagaState.PENDING || saga.state === SagaState.RUNNING;
}

/** Where a client follows a saga that is still running (the `Location` of a 202). */
export function sagaStatusPath(sagaId: string): string {
  return `/v1/sagas/${sagaId}`;
}

/** How the gateway waits for a saga it started for a request: until it succeeded or failed. */
export const UNTIL_DECIDED = { untilDecided: true } as const;

/** A UUID derived from a string (an idempotency key scoped to tenant and operation). */
export function uuidFrom(text: string, sha256: (t: string) => Buffer): string {
  const hex = sha256(text).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
