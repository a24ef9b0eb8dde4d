import { CodedError, ErrorKind } from '#polystore/platform';

export const SagaErrorCode = {
  SAGA_NOT_FOUND: 'SAGA_NOT_FOUND',
  /** Retry and skip apply only to parked sagas (COMPENSATION_FAILED or FAILED). */
  SAGA_NOT_PARKED: 'SAGA_NOT_PARKED',
  /** Another saga holds a semantic lock on the same entity. */
  SAGA_CONFLICT: 'SAGA_CONFLICT',
  SAGA_DEFINITION_UNKNOWN: 'SAGA_DEFINITION_UNKNOWN',
  /** This process no longer owns the saga (its lease was taken over): it stops driving it. */
  SAGA_LEASE_LOST: 'SAGA_LEASE_LOST',
  /** Participant side: the step was already compensated, so a late action is refused. */
  STEP_ALREADY_COMPENSATED: 'STEP_ALREADY_COMPENSATED',
  /** A saga with this id exists already (idempotent start). */
  SAGA_ALREADY_STARTED: 'SAGA_ALREADY_STARTED',
  /** A step did not answer within its timeout. */
  STEP_TIMEOUT: 'STEP_TIMEOUT',
  /** A step's participant gave no answer for its whole unknown-outcome window: the saga gave up on it. */
  STEP_UNANSWERED: 'STEP_UNANSWERED',
} as const;
export type SagaErrorCode = (typeof SagaErrorCode)[keyof typeof SagaErrorCode];

/** Errors raised by `libs/saga`. */
export class SagaException extends CodedError<SagaErrorCode> {
  static notFound(id: string): SagaException {
    return new SagaException(SagaErrorCode.SAGA_NOT_FOUND, ErrorKind.NOT_FOUND, `saga ${id} not found`, { id });
  }

  static notParked(id: string, state: string): SagaException {
    return new SagaException(SagaErrorCode.SAGA_NOT_PARKED, ErrorKind.CONFLICT, `saga ${id} is ${state}, not parked`, {
      id,
      state,
    });
  }

  static conflict(resource: string, holder: string): SagaException {
    return new SagaException(
      SagaErrorCode.SAGA_CONFLICT,
      ErrorKind.CONFLICT,
      'another operation on this entity is in progress',
      { resource, sagaId: holder },
    );
  }

  static alreadyStarted(id: string): SagaException {
    return new SagaException(SagaErrorCode.SAGA_ALREADY_STARTED, ErrorKind.CONFLICT, `saga ${id} already exists`, {
      id,
    });
  }

  static unknownDefinition(name: string, version: number): SagaException {
    return new SagaException(
      SagaErrorCode.SAGA_DEFINITION_UNKNOWN,
      ErrorKind.INTERNAL,
      `no saga definition ${name} v${version}`,
      {
        name,
        version,
      },
    );
  }

  static leaseLost(id: string): SagaException {
    return new SagaException(
      SagaErrorCode.SAGA_LEASE_LOST,
      ErrorKind.UNAVAILABLE,
      `saga ${id} is driven by another process`,
      { id },
    );
  }

  static alreadyCompensated(sagaId: string, step: string): SagaException {
    return new SagaException(
      SagaErrorCode.STEP_ALREADY_COMPENSATED,
      ErrorKind.CONFLICT,
      `step ${step} of saga ${sagaId} was compensated; the late action is refused`,
      { sagaId, step },
    );
  }

  static stepTimeout(step: string, timeoutMs: number): SagaException {
    return new SagaException(
      SagaErrorCode.STEP_TIMEOUT,
      ErrorKind.DEADLINE_EXCEEDED,
      `step ${step} did not answer within ${timeoutMs} ms`,
      {
        step,
        timeoutMs,
      },
    );
  }

  /** `step` was retried for `windowMs` without an answer (`last`: the last attempt's error). */
  static unanswered(step: string, windowMs: number, last: { code: string; message: string }): SagaException {
    return new SagaException(
      SagaErrorCode.STEP_UNANSWERED,
      ErrorKind.UNAVAILABLE,
      `step ${step} got no answer for ${Math.round(windowMs / 1000)} s (last: ${last.code}: ${last.message})`,
      { step, windowMs, last },
    );
  }
}
