/** Where a saga is. Terminal: SUCCEEDED, COMPENSATED. Parked for an operator: FAILED, COMPENSATION_FAILED. */
export const SagaState = {
  /** Only in logs written by earlier versions: a saga is created RUNNING. */
  PENDING: 'PENDING',
  RUNNING: 'RUNNING',
  SUCCEEDED: 'SUCCEEDED',
  COMPENSATING: 'COMPENSATING',
  COMPENSATED: 'COMPENSATED',
  /** A forward-only saga hit a business failure: nothing to undo, an operator decides. */
  FAILED: 'FAILED',
  COMPENSATION_FAILED: 'COMPENSATION_FAILED',
} as const;
export type SagaState = (typeof SagaState)[keyof typeof SagaState];

/** Where one step is. RUNNING = dispatched, outcome not yet known. */
export const StepState = {
  PENDING: 'PENDING',
  RUNNING: 'RUNNING',
  SUCCEEDED: 'SUCCEEDED',
  FAILED: 'FAILED',
  COMPENSATING: 'COMPENSATING',
  COMPENSATED: 'COMPENSATED',
  COMPENSATION_FAILED: 'COMPENSATION_FAILED',
  SKIPPED: 'SKIPPED',
} as const;
export type StepState = (typeof StepState)[keyof typeof StepState];

export const ACTIVE_STATES: readonly SagaState[] = [SagaState.PENDING, SagaState.RUNNING, SagaState.COMPENSATING];
export const TERMINAL_STATES: readonly SagaState[] = [SagaState.SUCCEEDED, SagaState.COMPENSATED];

/** A saga as the log holds it. */
export interface SagaRecord {
  readonly id: string;
  readonly name: string;
  readonly version: number;
  readonly tenant: string | null;
  /** The tenant's immutable id (null for sagas of no tenant, and those logged before it was kept). */
  readonly tenantId: string | null;
  /** Who started it (from the request context): its steps run as them. */
  readonly actor: string | null;
  readonly state: SagaState;
  readonly input: unknown;
  readonly output: unknown;
  readonly error: unknown;
  readonly deadlineAt: Date;
  readonly fence: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly steps: readonly StepRecord[];
}

/** A step as the log holds it. */
export interface StepRecord {
  readonly step: string;
  readonly position: number;
  readonly group: number;
  readonly state: StepState;
  readonly attempts: number;
  readonly compensationAttempts: number;
  readonly output: unknown;
  readonly error: unknown;
  /** Since when its participant has not answered (its outcome is unknown); null once it answers. */
  readonly unknownSince: Date | null;
  /** Until when an unknown outcome is retried before the saga gives up on the step. */
  readonly retryUntil: Date | null;
  /** When the next attempt is due (durable backoff). */
  readonly nextAttemptAt: Date | null;
  readonly updatedAt: Date;
}
