import { CodedError, ErrorKind } from '#polystore/platform';
import type { EntityManager } from 'typeorm';
import type { ParticipantFence } from './participant-fence.js';

/** One saga command at a participant: its action and, unless forward-only, its compensation. */
export interface StepCommand<R> {
  action(manager: EntityManager): Promise<R>;
  compensation?(manager: EntityManager, actionResult: R | null): Promise<void>;
}

/** What a participant answers to the orchestrator. */
export interface StepReply {
  readonly result: unknown;
  readonly duplicate: boolean;
  readonly empty: boolean;
}

/**
 * Runs the action or the compensation of `request` through the fence (same transaction as
 * the effect). A compensation of a forward-only command is refused as invalid.
 */
export async function handleSagaStep<R>(
  fence: ParticipantFence,
  request: { sagaId: string; step: string; phase: 'action' | 'compensation' },
  command: StepCommand<R>,
): Promise<StepReply> {
  if (request.phase === 'action') {
    const outcome = await fence.action(request.sagaId, request.step, (m) => command.action(m));
    return { result: outcome.result ?? null, duplicate: outcome.duplicate, empty: false };
  }
  if (!command.compensation) {
    throw new CodedError('FORWARD_ONLY_STEP', ErrorKind.INVALID_ARGUMENT, `step ${request.step} cannot be compensated`);
  }
  const outcome = await fence.compensation(request.sagaId, request.step, (m, result) =>
    command.compensation!(m, result as R | null),
  );
  return { result: null, duplicate: outcome.duplicate, empty: outcome.empty };
}
