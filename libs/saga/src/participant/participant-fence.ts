import { transientRetryPolicy, type DataSourceRouter } from '#polystore/data-router';
import { KeyLedger, NO_EXPIRY, type KeyClaim } from '#polystore/idempotency';
import { CrashPoints } from '#polystore/platform';
import type { RetryPolicy } from 'cockatiel';
import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { SagaException } from '../saga.exception.js';

/** Armed in tests to kill a store inside a step's transaction, before it commits. */
export const PARTICIPANT_CRASH_POINT = 'saga.participant.before-commit';

/** The row that blocked our insert was rolled back before we could read it: try again. */
class RowVanished extends Error {}

/** What became of an action or compensation at the participant. */
export interface FenceOutcome<T> {
  readonly result: T | null;
  /** The same step was already handled: nothing ran again. */
  readonly duplicate: boolean;
  /** A compensation for an action that never ran here: a marker was left, nothing undone. */
  readonly empty: boolean;
}

/**
 * The key of a saga step in the store's `idempotency_keys`: `saga/<sagaId>/<step>`. An HTTP
 * `Idempotency-Key` cannot contain `/`, so a client's key never meets a step's.
 */
export function sagaStepKey(sagaId: string, step: string): string {
  return `saga/${sagaId}/${step}`;
}

/** A step's claim: kept without expiry (a parked saga may be retried days later), hashed on its key. */
function stepClaim(sagaId: string, step: string): KeyClaim {
  const key = sagaStepKey(sagaId, step);
  return { key, requestHash: createHash('sha256').update(key).digest('hex'), expiresAt: NO_EXPIRY };
}

/**
 * The participant half of a saga step, in the store's own database and transaction: the store's
 * idempotency mechanism (`KeyLedger` of libs/idempotency, the table its HTTP keys use) applied
 * to the step's key.
 *
 * - An action runs once per `(sagaId, step)`: its key is claimed with the effect, a duplicate
 *   gets the stored result.
 * - A compensation undoes the action in the same transaction that marks the key `compensated`;
 *   a duplicate does nothing.
 * - A compensation that arrives before its action (never ran, or still in flight) leaves a
 *   `compensated` marker and does nothing; the late action is then refused with
 *   `STEP_ALREADY_COMPENSATED` (a business failure for the orchestrator).
 */
export class ParticipantFence {
  private readonly retry: RetryPolicy;

  constructor(private readonly router: DataSourceRouter) {
    this.retry = transientRetryPolicy({ alsoRetry: (error) => error instanceof RowVanished });
  }

  /** Runs `work` as the action of `sagaId:step`, at most once. */
  async action<T>(
    sagaId: string,
    step: string,
    work: (manager: EntityManager) => Promise<T>,
  ): Promise<FenceOutcome<T>> {
    return this.retry.execute(async () => {
      const outcome = await KeyLedger.runOnce(this.router, stepClaim(sagaId, step), 'done', work, () =>
        CrashPoints.hit(PARTICIPANT_CRASH_POINT),
      );
      if (outcome.ran) return { result: outcome.result, duplicate: false, empty: false };
      const row = outcome.existing;
      if (row?.state === 'compensated') throw SagaException.alreadyCompensated(sagaId, step);
      if (!row) throw new RowVanished('step key rolled back');
      return { result: KeyLedger.resultOf<T>(row), duplicate: true, empty: false };
    });
  }

  /** Runs `undo` as the compensation of `sagaId:step`; a no-op marker if the action never ran. */
  async compensation(
    sagaId: string,
    step: string,
    undo: (manager: EntityManager, actionResult: unknown) => Promise<void>,
  ): Promise<FenceOutcome<never>> {
    const claim = stepClaim(sagaId, step);
    return this.retry.execute(async () => {
      if (await KeyLedger.leaveMarker(this.router, claim, 'compensated'))
        return { result: null, duplicate: false, empty: true };
      return this.router.transaction(async (manager) => {
        const row = await KeyLedger.lock(manager, claim.key);
        if (!row || row.state === 'compensated') return { result: null, duplicate: true, empty: false };
        await undo(manager, KeyLedger.resultOf(row));
        await KeyLedger.mark(manager, claim.key, 'compensated');
        CrashPoints.hit(PARTICIPANT_CRASH_POINT);
        return { result: null, duplicate: false, empty: false };
      });
    });
  }
}
