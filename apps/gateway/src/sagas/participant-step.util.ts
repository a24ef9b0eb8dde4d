import type { Contract, MessageClient } from '#polystore/messaging';
import type { RetryPolicy, StepContext, StepDefinition } from '#polystore/saga';

/** How to build a step that a participant store carries out over NATS. */
export interface ParticipantStepSpec<I> {
  readonly name: string;
  readonly contract: Contract;
  /** The command's fields (besides sagaId, step and phase), from the input and earlier results. */
  readonly fields: (ctx: StepContext<I>) => Record<string, unknown>;
  /** Whether the participant can undo it (else the step is forward-only). */
  readonly compensable: boolean;
  readonly retry?: Partial<RetryPolicy>;
  readonly timeoutMs?: number;
}

/**
 * A saga step carried out by a participant store: the action and the compensation are the same
 * NATS command with `phase` set; the participant's fence makes both idempotent by `(sagaId, step)`.
 * The step's output is the participant's result (never a secret: participants return none).
 */
export function participantStep<I>(messages: MessageClient, spec: ParticipantStepSpec<I>): StepDefinition<I> {
  const send = (ctx: StepContext<I>, phase: 'action' | 'compensation') =>
    messages.request<Contract>(spec.contract, {
      sagaId: ctx.sagaId,
      step: spec.name,
      phase,
      ...spec.fields(ctx),
    });
  return {
    name: spec.name,
    retry: spec.retry,
    timeoutMs: spec.timeoutMs ?? 5_000,
    action: async (ctx) => ((await send(ctx, 'action')) as { result: unknown }).result,
    ...(spec.compensable
      ? {
          compensation: async (ctx: StepContext<I>) => {
            await send(ctx, 'compensation');
          },
        }
      : {}),
  };
}

/** Retry of forward-only steps: until done, backing off to one attempt every 5 s. */
export const UNTIL_DONE: Partial<RetryPolicy> = {
  initialIntervalMs: 200,
  backoffCoefficient: 2,
  maxIntervalMs: 5_000,
  maxAttempts: Infinity,
};
