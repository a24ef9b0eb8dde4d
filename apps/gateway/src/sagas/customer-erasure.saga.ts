import { Contracts, type MessageClient } from '#polystore/messaging';
import { defineSaga } from '#polystore/saga';
import { participantStep, UNTIL_DONE, type ParticipantStepSpec } from './participant-step.util.js';

export interface CustomerErasureInput {
  readonly customerId: string;
}

const S = Contracts.sagaSteps;

/**
 * Right to erasure, forward-only and retried until done: PII deleted in the secure store,
 * references anonymized in the reliable store (which returns the customer's devices), and those
 * devices' telemetry deleted in the edge store.
 */
export function customerErasureSaga(messages: MessageClient) {
  const step = (spec: ParticipantStepSpec<CustomerErasureInput>) => participantStep(messages, spec);
  return defineSaga<CustomerErasureInput>({
    name: 'customer-erasure',
    version: 1,
    deadlineMs: 60_000,
    locks: (input) => [`customer:${input.customerId}`],
    steps: [
      step({
        name: 'pii',
        contract: S.secure.eraseCustomer,
        compensable: false,
        fields: ({ input }) => ({ customerId: input.customerId }),
        retry: UNTIL_DONE,
      }),
      step({
        name: 'references',
        contract: S.reliable.anonymizeCustomer,
        compensable: false,
        fields: ({ input }) => ({ customerId: input.customerId }),
        retry: UNTIL_DONE,
      }),
      step({
        name: 'telemetry',
        contract: S.edge.eraseTelemetry,
        compensable: false,
        fields: ({ results }) => ({
          deviceIds: (results['references'] as { deviceIds?: string[] } | null)?.deviceIds ?? [],
        }),
        retry: { ...UNTIL_DONE, maxAttempts: Infinity },
        timeoutMs: 60_000,
      }),
    ],
  });
}
