import { CatalogErrorCode, type CatalogService, type StoreName } from '#polystore/catalog';
import { Contracts, type MessageClient } from '#polystore/messaging';
import { defineSaga, type StepContext, type StepDefinition } from '#polystore/saga';
import { participantStep, UNTIL_DONE, type ParticipantStepSpec } from './participant-step.util.js';

export interface CustomerErasureInput {
  readonly customerId: string;
}

const S = Contracts.sagaSteps;

/** What a step that had nothing to do returns (logged as its output). */
interface Skipped {
  readonly skipped: string;
  readonly deviceIds: readonly string[];
}

/**
 * Right to erasure, forward-only and retried until done: PII deleted in the secure store,
 * references anonymized in the reliable store (which returns the customer's devices), and those
 * devices' telemetry deleted in the edge store. A customer the secure store does not know ends
 * the saga there (the request answers 404, nothing else is touched); a store the tenant has no
 * database in (its placements say so) has nothing to erase.
 */
export function customerErasureSaga(deps: { messages: MessageClient; catalog: CatalogService }) {
  const step = (spec: ParticipantStepSpec<CustomerErasureInput>) => participantStep(deps.messages, spec);

  const hasDatabaseIn = async (ctx: StepContext<CustomerErasureInput>, store: StoreName) => {
    try {
      await deps.catalog.getPlacement(ctx.tenant!, store);
      return true;
    } catch (error) {
      if ((error as { code?: string }).code === CatalogErrorCode.PLACEMENT_NOT_FOUND) return false;
      throw error;
    }
  };
  /** Runs `step` only when `reason` finds nothing against it; otherwise logs why it was skipped. */
  const unless = (
    reason: (ctx: StepContext<CustomerErasureInput>) => Promise<string | null>,
    inner: StepDefinition<CustomerErasureInput>,
  ): StepDefinition<CustomerErasureInput> => ({
    ...inner,
    action: async (ctx) => {
      const skipped = await reason(ctx);
      return skipped ? ({ skipped, deviceIds: [] } satisfies Skipped) : inner.action(ctx);
    },
  });
  const customerUnknown = (ctx: StepContext<CustomerErasureInput>) =>
    (ctx.results['pii'] as { erased?: boolean } | undefined)?.erased === false;
  const deviceIds = (ctx: StepContext<CustomerErasureInput>) =>
    (ctx.results['references'] as { deviceIds?: string[] } | null)?.deviceIds ?? [];

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
      unless(
        async (ctx) =>
          customerUnknown(ctx)
            ? 'customer not found'
            : (await hasDatabaseIn(ctx, 'reliable'))
              ? null
              : 'tenant has no reliable database',
        step({
          name: 'references',
          contract: S.reliable.anonymizeCustomer,
          compensable: false,
          fields: ({ input }) => ({ customerId: input.customerId }),
          retry: UNTIL_DONE,
        }),
      ),
      unless(
        async (ctx) =>
          deviceIds(ctx).length === 0
            ? 'no devices'
            : (await hasDatabaseIn(ctx, 'edge'))
              ? null
              : 'tenant has no edge database',
        step({
          name: 'telemetry',
          contract: S.edge.eraseTelemetry,
          compensable: false,
          fields: (ctx) => ({ deviceIds: deviceIds(ctx) }),
          retry: { ...UNTIL_DONE, maxAttempts: Infinity },
          timeoutMs: 60_000,
        }),
      ),
    ],
  });
}
