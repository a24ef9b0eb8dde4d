import { classifySqlError, transientRetryPolicy, type DataSourceRouter } from '#polystore/data-router';
import { CrashPoints } from '#polystore/platform';
import type { RetryPolicy } from 'cockatiel';
import type { EntityManager } from 'typeorm';
import { SagaException } from '../saga.exception.js';
import { SagaInboxEntity } from './saga-inbox.entity.js';

/** Armed in tests to kill a store inside a step's transaction, before it commits. */
export const PARTICIPANT_CRASH_POINT = 'saga.participant.before-commit';

class AlreadyRecorded extends Error {}

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
 * The participant half of a saga step, in the store's own database and transaction.
 *
 * - An action runs once per `(sagaId, step)`: its inbox row is inserted with the effect, a
 *   duplicate gets the stored result.
 * - A compensation undoes the action in the same transaction that marks the row `compensated`;
 *   a duplicate does nothing.
 * - A compensation that arrives before its action (never ran, or still in flight) leaves a
 *   `compensated` marker and does nothing; the late action is then refused with
 *   `STEP_ALREADY_COMPENSATED` (a business failure for the orchestrator).
 * Unique-key races are decided by the database (matched by SQLSTATE / error number).
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
      try {
        return await this.router.transaction(async (manager) => {
          await this.claim(manager, sagaId, step, 'done');
          const result = await work(manager);
          await manager.update(
            SagaInboxEntity,
            { sagaId, step },
            { result: JSON.stringify(result ?? null), updatedAt: new Date() },
          );
          CrashPoints.hit(PARTICIPANT_CRASH_POINT);
          return { result, duplicate: false, empty: false };
        });
      } catch (error) {
        if (!(error instanceof AlreadyRecorded)) throw error;
        const row = await this.router.run((ds) => ds.getRepository(SagaInboxEntity).findOneBy({ sagaId, step }));
        if (row?.state === 'compensated') throw SagaException.alreadyCompensated(sagaId, step);
        if (!row) throw new RowVanished('inbox row rolled back');
        return { result: row.result === null ? null : (JSON.parse(row.result) as T), duplicate: true, empty: false };
      }
    });
  }

  /** Runs `undo` as the compensation of `sagaId:step`; a no-op marker if the action never ran. */
  async compensation(
    sagaId: string,
    step: string,
    undo: (manager: EntityManager, actionResult: unknown) => Promise<void>,
  ): Promise<FenceOutcome<never>> {
    return this.retry.execute(async () => {
      try {
        return await this.router.transaction(async (manager) => {
          await this.claim(manager, sagaId, step, 'compensated');
          return { result: null, duplicate: false, empty: true };
        });
      } catch (error) {
        if (!(error instanceof AlreadyRecorded)) throw error;
      }
      return this.router.transaction(async (manager) => {
        const row = await manager
          .getRepository(SagaInboxEntity)
          .createQueryBuilder('i')
          .setLock('pessimistic_write')
          .where('i.saga_id = :sagaId AND i.step = :step', { sagaId, step })
          .getOne();
        if (!row || row.state === 'compensated') return { result: null, duplicate: true, empty: false };
        await undo(manager, row.result === null ? null : JSON.parse(row.result));
        await manager.update(SagaInboxEntity, { sagaId, step }, { state: 'compensated', updatedAt: new Date() });
        CrashPoints.hit(PARTICIPANT_CRASH_POINT);
        return { result: null, duplicate: false, empty: false };
      });
    });
  }

  private async claim(
    manager: EntityManager,
    sagaId: string,
    step: string,
    state: 'done' | 'compensated',
  ): Promise<void> {
    try {
      await manager.insert(SagaInboxEntity, { sagaId, step, state, result: null, updatedAt: new Date() });
    } catch (error) {
      if (classifySqlError(error) === 'unique_violation') throw new AlreadyRecorded();
      throw error;
    }
  }
}
