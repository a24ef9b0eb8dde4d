import { CodedError, ErrorKind, isErrorKind } from '#polystore/platform';
import { SagaState, type SagaRecord } from '#polystore/saga';

/** A saga that ended without doing its work, as the error its failing step reported. */
export function sagaFailure(saga: SagaRecord): CodedError {
  const error = (saga.error ?? {}) as { code?: unknown; kind?: unknown; message?: unknown };
  const code = typeof error.code === 'string' ? error.code : 'SAGA_FAILED';
  const kind = isErrorKind(error.kind) ? error.kind : ErrorKind.UNAVAILABLE;
  const message = typeof error.message === 'string' ? error.message : `operation failed (${saga.state})`;
  return new CodedError(code, kind, message, { sagaId: saga.id, state: saga.state });
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

/** How the gateway waits for a saga it started for a request: until it succeeded or failed. */
export const UNTIL_DECIDED = { untilDecided: true } as const;

/** A UUID derived from a string (an idempotency key scoped to tenant and operation). */
export function uuidFrom(text: string, sha256: (t: string) => Buffer): string {
  const hex = sha256(text).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
