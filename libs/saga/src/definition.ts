import type { TenantSlug } from '#polystore/tenancy';

/** How a step's action (or compensation) is retried when its outcome is unknown or transient. */
export interface RetryPolicy {
  readonly initialIntervalMs: number;
  readonly backoffCoefficient: number;
  readonly maxIntervalMs: number;
  /** Attempts in all (1 = no retry). `Infinity` for forward-only steps that must eventually succeed. */
  readonly maxAttempts: number;
  /** Error codes that are business failures even when their kind would suggest a retry. */
  readonly nonRetryableCodes: readonly string[];
  /**
   * How long an unknown outcome (the participant unreachable, restarting, busy or past its
   * deadline) is retried, from the first attempt without an answer, before the saga gives up on
   * the step; `maxAttempts` does not bound it. Default: the orchestrator's
   * `unknownOutcomeWindowMs` (2 minutes).
   */
  readonly unknownOutcomeWindowMs?: number;
}

export const DEFAULT_COMPENSATION_RETRY: RetryPolicy = {
  initialIntervalMs: 200,
  backoffCoefficient: 2,
  maxIntervalMs: 5_000,
  maxAttempts: 8,
  nonRetryableCodes: [],
};

export const DEFAULT_RETRY: RetryPolicy = {
  initialIntervalMs: 100,
  backoffCoefficient: 2,
  maxIntervalMs: 5_000,
  maxAttempts: 5,
  nonRetryableCodes: [],
};

/** What a step's action or compensation is given. */
export interface StepContext<I> {
  readonly sagaId: string;
  readonly tenant: TenantSlug | null;
  readonly input: I;
  /** Outputs of the steps that succeeded before (as persisted in the log). */
  readonly results: Readonly<Record<string, unknown>>;
  /** `sagaId:step`: participants store it with the effect, so a resend applies once. */
  readonly key: string;
  readonly attempt: number;
}

/** One step: an action and, unless forward-only, its compensation. */
export interface StepDefinition<I = never, O = unknown> {
  readonly name: string;
  /** The action. Must be idempotent by `ctx.key`; may throw a CodedError (business failure) or anything else. */
  readonly action: (ctx: StepContext<I>) => Promise<O>;
  /** Undoes the action; must be idempotent and safe when the action never ran. Absent: forward-only. */
  readonly compensation?: (ctx: StepContext<I>) => Promise<void>;
  readonly retry?: Partial<RetryPolicy>;
  /**
   * Retry of the compensation (default: 8 attempts from 200 ms, doubling up to 5 s, about 16 s in
   * all): compensations get more patience than actions, since giving up parks the saga.
   */
  readonly compensationRetry?: Partial<RetryPolicy>;
  /** Budget of one attempt (default 5 s). */
  readonly timeoutMs?: number;
  /** What of the output is written to the log (default: all of it). Secrets must be left out. */
  readonly persist?: (output: O) => unknown;
}

/** A named, versioned saga: groups of steps run in order; the steps of one group run in parallel. */
export interface SagaDefinition<I = never> {
  readonly name: string;
  readonly version: number;
  readonly groups: ReadonlyArray<ReadonlyArray<StepDefinition<I>>>;
  /** Time from start after which a running saga stops and compensates. */
  readonly deadlineMs: number;
  /** Entities the saga works on (e.g. `device:<tenant>:<id>`): two sagas never hold one at once. */
  readonly locks?: (input: I) => string[];
  /** What the saga returns (from step outputs), written to the log when it succeeds. */
  readonly output?: (results: Readonly<Record<string, unknown>>) => unknown;
}

/** Declares a saga. Step names must be unique. */
export function defineSaga<I>(spec: {
  name: string;
  version: number;
  deadlineMs: number;
  steps: ReadonlyArray<StepDefinition<I> | ReadonlyArray<StepDefinition<I>>>;
  locks?: (input: I) => string[];
  output?: (results: Readonly<Record<string, unknown>>) => unknown;
}): SagaDefinition<I> {
  const groups = spec.steps.map((s) =>
    Array.isArray(s) ? (s as ReadonlyArray<StepDefinition<I>>) : [s as StepDefinition<I>],
  );
  const names = groups.flat().map((s) => s.name);
  if (new Set(names).size !== names.length) throw new Error(`saga ${spec.name}: step names must be unique`);
  if (names.some((n) => !/^[a-z][a-z0-9-]{0,62}$/.test(n)))
    throw new Error(`saga ${spec.name}: step names must match ^[a-z][a-z0-9-]{0,62}$`);
  return Object.freeze({
    name: spec.name,
    version: spec.version,
    deadlineMs: spec.deadlineMs,
    groups,
    locks: spec.locks,
    output: spec.output,
  });
}

/** Declares a step (a helper for type inference). */
export function step<I, O>(spec: StepDefinition<I, O>): StepDefinition<I, O> {
  return spec;
}

/** A saga with no compensation at all: once started, retried until done. */
export function isForwardOnly(definition: SagaDefinition<never>): boolean {
  return definition.groups.every((group) => group.every((s) => !s.compensation));
}
