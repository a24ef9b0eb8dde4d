import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { CrashPoints } from '#polystore/platform';
import { newRequestContext, RequestContextStore, type TenantSlug } from '#polystore/tenancy';
import type { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { Span } from '#polystore/tracing';
import { systemClock, type Clock } from './clock.js';
import {
  DEFAULT_COMPENSATION_RETRY,
  DEFAULT_RETRY,
  isForwardOnly,
  type RetryPolicy,
  type SagaDefinition,
  type StepContext,
  type StepDefinition,
} from './definition.js';
import { backoffMs, classifyFailure, describeError } from './internal/outcome.js';
import { SagaLog, type OperatorAction, type ParkedClaim } from './internal/saga-log.js';
import { SagaMetrics } from './internal/saga-metrics.js';
import { nameSagaSpan, traceDrive, traceStep } from './internal/saga-tracing.js';
import { SagaErrorCode, SagaException } from './saga.exception.js';
import { SagaState, StepState, TERMINAL_STATES, type SagaRecord, type StepRecord } from './saga-state.js';

/** Tuning of an orchestrator. */
export interface SagaOrchestratorOptions {
  /** Identifies this process in leases (`gateway:<instance>`). */
  readonly owner: string;
  /** How long a lease lasts without renewal; a crashed owner's sagas are resumed after it. */
  readonly leaseMs: number;
  /** How often stale sagas are looked for (0 disables the sweeper). */
  readonly sweepIntervalMs: number;
  /** Sagas driven at once by the sweeper. */
  readonly maxConcurrentRecoveries: number;
  /**
   * How long a step whose participant does not answer (unreachable, restarting, past its
   * deadline) is retried before the saga gives up on it and compensates (default 2 minutes;
   * a step's `retry.unknownOutcomeWindowMs` overrides it). A store restart must never turn an
   * accepted operation into a compensated one.
   */
  readonly unknownOutcomeWindowMs?: number;
  /**
   * The same window for compensations: how long an undo whose participant does not answer is
   * retried before its step is marked COMPENSATION_FAILED and the saga parked (default
   * `unknownOutcomeWindowMs`; a step's `compensationRetry.unknownOutcomeWindowMs` overrides it).
   */
  readonly compensationWindowMs?: number;
  /**
   * How long an operator's `Idempotency-Key` for retry or skip is remembered (default 24 h): the
   * sweeper deletes older keys (at most once per quarter of it, and at least once an hour); a
   * repeat after that acts again.
   */
  readonly operatorKeyRetentionMs?: number;
  /** Where the saga metrics go (see SagaMetrics); none when absent. */
  readonly metrics?: Registry;
  readonly clock?: Clock;
}

/** Default of {@link SagaOrchestratorOptions.unknownOutcomeWindowMs}. */
export const DEFAULT_UNKNOWN_OUTCOME_WINDOW_MS = 120_000;

/** Default of {@link SagaOrchestratorOptions.operatorKeyRetentionMs}: 24 h. */
export const DEFAULT_OPERATOR_KEY_RETENTION_MS = 24 * 3_600_000;

/** An operator's retry or skip: with an idempotency key, a repeat gets the first call's outcome. */
export interface OperatorActionOptions {
  /** `[A-Za-z0-9._:-]{1,200}`, remembered for `operatorKeyRetentionMs`. */
  readonly idempotencyKey?: string;
}

/** Crash points of the orchestrator, in the order a saga meets them (see CrashPoints). */
export const SagaCrashPoint = {
  AFTER_START: 'saga.after-start',
  AFTER_STEP_INTENT: 'saga.after-step-intent',
  AFTER_STEP_ACTION: 'saga.after-step-action',
  AFTER_STEP_RESULT: 'saga.after-step-result',
  AFTER_COMPENSATING: 'saga.after-compensating',
  AFTER_COMPENSATION_INTENT: 'saga.after-compensation-intent',
  AFTER_COMPENSATION: 'saga.after-compensation',
} as const;

/** A step that succeeded, as the log now holds it. */
interface StepDone {
  readonly output: unknown;
  readonly attempts: number;
  /** It waited for its store (an unknown-outcome window closed): the log moved the saga's deadline. */
  readonly waited: boolean;
}

class StepFailed extends Error {
  constructor(
    readonly step: string,
    readonly reason: unknown,
  ) {
    super(`step ${step} failed`);
  }
}

/**
 * Runs sagas: each step's intent is logged before it is sent (idempotency key `sagaId:step`),
 * each outcome after; on a business failure, an exhausted retry or the deadline, the steps that
 * may have acted are compensated in reverse order (parallel groups together, after the groups
 * that depend on them). Compensations are retried with backoff; one that keeps failing parks the
 * saga as COMPENSATION_FAILED (the others still run) for an operator's `retry` or `skip`.
 *
 * Unavailable is not failed: a participant that does not answer leaves the step's outcome
 * unknown, and the step is retried with the same key, with durable, jittered backoff (the next
 * attempt's time is logged, and a resumed saga waits for it), for the unknown-outcome window;
 * the time spent waiting does not count against the saga's deadline. Only when the window closes
 * without an answer does the saga give up on the step (`STEP_UNANSWERED`) and compensate.
 *
 * Any process may resume any saga: a lease (renewed while driving) says who drives it, and a
 * fence (bumped at every claim) makes a stale owner's writes fail, so exactly one process acts.
 * A sweeper claims sagas whose lease expired (`FOR UPDATE SKIP LOCKED`) and resumes them.
 * Instances finish on the definition version they started with.
 */
export class SagaOrchestrator {
  private readonly logger = new Logger(SagaOrchestrator.name);
  private readonly log: SagaLog;
  private readonly definitions = new Map<string, SagaDefinition<never>>();
  private readonly clock: Clock;
  private readonly unknownOutcomeWindowMs: number;
  private readonly compensationWindowMs: number;
  private readonly operatorKeyRetentionMs: number;
  private readonly metrics?: SagaMetrics;
  private readonly driving = new Map<string, Promise<void>>();
  /**
   * Per saga driven here: the step intent (`<step>:<attempt>`) already logged with the previous
   * step's result (one write per transition), so `runStep` does not log it again.
   */
  private readonly loggedIntents = new Map<string, string>();
  /** Callers waiting (in this process) for a saga to turn to compensation. */
  private readonly compensationWaiters = new Map<string, Set<() => void>>();
  private sweeper?: NodeJS.Timeout;
  private sweeping = false;
  /** When the sweeper next purges expired operator keys (this process's clock). */
  private nextKeyPurgeAt = 0;
  private stopped = false;

  constructor(
    db: DataSource,
    private readonly options: SagaOrchestratorOptions,
  ) {
    this.log = new SagaLog(db.manager);
    this.clock = options.clock ?? systemClock;
    this.unknownOutcomeWindowMs = options.unknownOutcomeWindowMs ?? DEFAULT_UNKNOWN_OUTCOME_WINDOW_MS;
    this.compensationWindowMs = options.compensationWindowMs ?? this.unknownOutcomeWindowMs;
    this.operatorKeyRetentionMs = options.operatorKeyRetentionMs ?? DEFAULT_OPERATOR_KEY_RETENTION_MS;
    if (options.metrics) this.metrics = new SagaMetrics(options.metrics, db);
  }

  /** Makes a definition (one name and version) runnable. Keep old versions registered while instances run. */
  register<I>(definition: SagaDefinition<I>): void {
    this.definitions.set(`${definition.name}@${definition.version}`, definition);
  }

  /**
   * Starts the sweeper that resumes sagas whose owner died and, now and then, deletes the
   * operators' idempotency keys past their retention.
   */
  startRecovery(): void {
    if (this.options.sweepIntervalMs <= 0 || this.sweeper) return;
    this.sweeper = setInterval(() => void this.sweep(), this.options.sweepIntervalMs);
    this.sweeper.unref();
    void this.sweep();
  }

  private async sweep(): Promise<void> {
    await this.recoverNow();
    const now = this.clock.now();
    if (this.stopped || now < this.nextKeyPurgeAt) return;
    this.nextKeyPurgeAt = now + Math.min(3_600_000, this.operatorKeyRetentionMs / 4);
    await this.purgeExpiredOperatorKeys().catch((error: unknown) => {
      this.logger.warn({ code: (error as { code?: string }).code }, 'purge of expired operator keys failed');
    });
  }

  /**
   * Deletes the operators' retry and skip keys older than `operatorKeyRetentionMs` (the sweeper
   * calls it; exposed for tests and tools). Returns how many were deleted.
   */
  async purgeExpiredOperatorKeys(): Promise<number> {
    const purged = await this.log.purgeOperatorKeys(new Date(this.clock.now() - this.operatorKeyRetentionMs));
    if (purged > 0) this.logger.log({ purged }, 'expired operator keys deleted');
    return purged;
  }

  /** Stops the sweeper and waits for the sagas this process is driving to pause at a persisted state. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweeper);
    await Promise.allSettled([...this.driving.values()]);
  }

  /**
   * Logs a new saga (RUNNING, leased to this process), then drives it in the background; returns
   * its id at once.
   * `SAGA_CONFLICT` if another saga holds one of its semantic locks. With an `id` (derived from
   * an idempotency key), starting twice is harmless: the second call returns the same id. The
   * actor (default: the current request context's) is logged, and every step runs as them.
   * `tenant` routes the steps; `tenantId`, the tenant's immutable id, says whose saga it is.
   */
  async start<I>(
    definition: SagaDefinition<I>,
    input: I,
    options: { tenant?: TenantSlug; tenantId?: string; id?: string; actor?: string } = {},
  ): Promise<string> {
    this.register(definition);
    const id = options.id ?? randomUUID();
    const now = this.clock.now();
    let position = 0;
    try {
      await this.log.create({
        id,
        name: definition.name,
        version: definition.version,
        tenant: options.tenant ?? null,
        tenantId: options.tenantId ?? null,
        actor: options.actor ?? RequestContextStore.current()?.actor ?? null,
        input,
        deadlineAt: new Date(now + definition.deadlineMs),
        steps: definition.groups.flatMap((group, g) =>
          group.map((s) => ({ step: s.name, position: position++, group: g })),
        ),
        locks: definition.locks?.(input) ?? [],
        owner: this.options.owner,
        leaseUntil: new Date(now + this.options.leaseMs),
      });
    } catch (error) {
      if ((error as { code?: string }).code === SagaErrorCode.SAGA_ALREADY_STARTED) return id;
      throw error;
    }
    CrashPoints.hit(SagaCrashPoint.AFTER_START);
    this.spawn(id, 1);
    return id;
  }

  /** See `SagaLog.claimOutputFlag`: true for the one caller that sets `flag`. */
  claimOutputFlag(id: string, flag: string): Promise<boolean> {
    return this.log.claimOutputFlag(id, flag);
  }

  /** The saga as logged. */
  get(id: string): Promise<SagaRecord> {
    return this.log.load(id);
  }

  /** The saga as logged, or null when there is none with this id. */
  find(id: string): Promise<SagaRecord | null> {
    return this.log.find(id);
  }

  list(filter: { state?: SagaState; tenant?: string; limit?: number }): Promise<SagaRecord[]> {
    return this.log.list({ ...filter, limit: filter.limit ?? 100 });
  }

  /**
   * Resolves with the saga once it is terminal or parked, or as it is after `timeoutMs` (real
   * time: a caller's wait, not the saga's clock). With `untilDecided`, also as soon as it is
   * COMPENSATING: its outcome is known (it failed), and a request can answer with the error
   * while the compensation goes on in the background.
   */
  async waitFor(id: string, timeoutMs: number, options: { untilDecided?: boolean } = {}): Promise<SagaRecord> {
    const until = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const pause = (ms: number) =>
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, ms));
      });
    const done = (saga: SagaRecord) =>
      !isActive(saga.state) || (options.untilDecided === true && saga.state === SagaState.COMPENSATING);
    for (;;) {
      const running = this.driving.get(id);
      if (running) {
        const waits: Array<Promise<unknown>> = [running, pause(until - Date.now())];
        if (options.untilDecided) waits.push(this.compensationStarted(id));
        await Promise.race(waits).finally(() => clearTimeout(timer));
      }
      const saga = await this.log.load(id);
      if (done(saga) || Date.now() >= until) return saga;
      if (!this.driving.has(id)) await pause(Math.min(50, until - Date.now()));
    }
  }

  /** Resolves when this process turns saga `id` to COMPENSATING. */
  private compensationStarted(id: string): Promise<void> {
    return new Promise((resolve) => {
      const waiters = this.compensationWaiters.get(id) ?? new Set();
      const once = () => {
        waiters.delete(once);
        if (waiters.size === 0) this.compensationWaiters.delete(id);
        resolve();
      };
      waiters.add(once);
      this.compensationWaiters.set(id, waiters);
      // The drive ending also ends the wait (see waitFor); drop the waiter then.
      void this.driving.get(id)?.then(once, once);
    });
  }

  /**
   * Operator: resumes a parked saga. COMPENSATION_FAILED: the failed compensations run again;
   * FAILED (forward-only): the failed steps run again. Resolves with the saga once it is terminal
   * or parked again (or as it is after 30 s). The claim, the reset of the failed steps, the new
   * state and the idempotency key (if any) commit in one transaction; a repeat of the key gets
   * the saga the same way, without acting again (see {@link actOnParked}).
   */
  async retry(id: string, options: OperatorActionOptions = {}): Promise<SagaRecord> {
    const outcome = await this.actOnParked(id, 'retry', options, async (log, claim) => {
      const next = claim.state === SagaState.COMPENSATION_FAILED ? SagaState.COMPENSATING : SagaState.RUNNING;
      const saga = await log.load(id);
      // COMPENSATION_FAILED steps are compensated again as they are; FAILED forward steps run again.
      if (next === SagaState.RUNNING) {
        for (const s of saga.steps.filter((x) => x.state === StepState.FAILED)) {
          await log.setStep(id, claim.fence, s.step, { state: StepState.PENDING });
        }
      }
      // An undo that runs again keeps the reason it began (the parked error's cause): once it
      // completes, the saga (and its idempotency key) answers with that reason, not a blank one.
      await log.setSaga(id, claim.fence, {
        state: next,
        error: next === SagaState.COMPENSATING ? causeOf(saga.error) : null,
      });
    });
    if (!outcome.replayed) this.spawn(id, outcome.fence);
    return this.waitFor(id, 30_000);
  }

  /**
   * Operator: gives up on what failed and closes the saga (COMPENSATED, or SUCCEEDED for
   * forward-only), in one transaction with the idempotency key (if any); a repeat of the key
   * gets the saga as it is now.
   */
  async skip(id: string, options: OperatorActionOptions = {}): Promise<SagaRecord> {
    await this.actOnParked(id, 'skip', options, async (log, claim) => {
      const saga = await log.load(id);
      for (const s of saga.steps) {
        if (s.state === StepState.COMPENSATION_FAILED || s.state === StepState.FAILED) {
          await log.setStep(id, claim.fence, s.step, { state: StepState.SKIPPED });
        }
      }
      const closed = claim.state === SagaState.COMPENSATION_FAILED ? SagaState.COMPENSATED : SagaState.SUCCEEDED;
      await log.setSaga(id, claim.fence, {
        state: closed,
        error: { code: 'SKIPPED', message: 'closed by an operator (skip)' },
      });
    });
    return this.log.load(id);
  }

  /**
   * Claims a parked saga and applies `change`, with the operator's key, in one transaction (see
   * `SagaLog.operatorAction`): `SAGA_NOT_PARKED` when it is not parked; with a key already used
   * for this saga and action, `replayed` and nothing changes; with a key used for another saga
   * or action, `IDEMPOTENCY_MISMATCH`.
   */
  private actOnParked(
    id: string,
    action: OperatorAction,
    options: OperatorActionOptions,
    change: (log: SagaLog, claim: ParkedClaim) => Promise<void>,
  ): ReturnType<SagaLog['operatorAction']> {
    const now = this.clock.now();
    return this.log.operatorAction(
      {
        id,
        action,
        ...(options.idempotencyKey !== undefined ? { key: options.idempotencyKey } : {}),
        owner: this.options.owner,
        leaseUntil: new Date(now + this.options.leaseMs),
        now: new Date(now),
      },
      change,
    );
  }

  /** One sweep: claims stale sagas and drives them (bounded). Returns how many were claimed. */
  async recoverNow(): Promise<number> {
    if (this.sweeping || this.stopped) return 0;
    this.sweeping = true;
    try {
      const free = this.options.maxConcurrentRecoveries - this.driving.size;
      if (free <= 0) return 0;
      const now = this.clock.now();
      const claimed = await this.log.claimStale(
        this.options.owner,
        new Date(now + this.options.leaseMs),
        free,
        new Date(now),
      );
      for (const { id, fence } of claimed) this.spawn(id, fence);
      if (claimed.length > 0) this.logger.log({ count: claimed.length }, 'resuming sagas');
      return claimed.length;
    } catch (error) {
      this.logger.warn({ code: (error as { code?: string }).code }, 'saga recovery sweep failed');
      return 0;
    } finally {
      this.sweeping = false;
    }
  }

  private spawn(id: string, fence: number): void {
    if (this.driving.has(id)) return;
    const run = traceDrive(id, (span) => this.drive(id, fence, span))
      .catch((error: unknown) => {
        if ((error as { code?: string }).code === SagaErrorCode.SAGA_LEASE_LOST) {
          this.logger.warn({ sagaId: id }, 'saga taken over by another process');
        } else {
          this.logger.error({ sagaId: id, err: describeError(error) }, 'saga driver stopped; the sweeper resumes it');
        }
      })
      .finally(() => this.driving.delete(id));
    this.driving.set(id, run);
  }

  /** Drives a saga from its logged state to a terminal or parked one (or until the process stops). */
  private async drive(id: string, fence: number, span?: Span): Promise<void> {
    const heartbeat = setInterval(
      () => {
        void this.log.renewLease(id, fence, new Date(this.clock.now() + this.options.leaseMs)).catch(() => undefined);
      },
      Math.max(50, this.options.leaseMs / 3),
    );
    heartbeat.unref();
    try {
      // The saga as this process last knew it: after a group that went as expected, the record
      // is updated in memory (every write of it is fenced, so it cannot be stale unnoticed);
      // anything else (a failure, a step that waited for its store) reads the log again.
      let known: SagaRecord | null = null;
      for (;;) {
        if (this.stopped) return;
        const saga = known ?? (await this.log.load(id));
        known = null;
        if (saga.fence !== fence) throw SagaException.leaseLost(id);
        const definition = this.definitions.get(`${saga.name}@${saga.version}`);
        if (!definition) throw SagaException.unknownDefinition(saga.name, saga.version);
        nameSagaSpan(span, saga.name, saga.version);
        switch (saga.state) {
          case SagaState.PENDING: // logged by a version that created sagas PENDING
            await this.log.setSaga(id, fence, { state: SagaState.RUNNING });
            break;
          case SagaState.RUNNING:
            known = await this.advance(saga, definition, fence);
            break;
          case SagaState.COMPENSATING:
            await this.compensate(saga, definition, fence);
            return;
          case SagaState.SUCCEEDED:
          case SagaState.COMPENSATED:
          case SagaState.FAILED:
          case SagaState.COMPENSATION_FAILED:
            return;
        }
      }
    } finally {
      clearInterval(heartbeat);
      this.loggedIntents.delete(id);
    }
  }

  /**
   * Runs the next group of steps; on success of the last one, finishes the saga. Returns the saga
   * as it now is when that is known without reading the log (the group succeeded and none of its
   * steps waited for its store, which moves the deadline), else null.
   */
  private async advance(
    saga: SagaRecord,
    definition: SagaDefinition<never>,
    fence: number,
  ): Promise<SagaRecord | null> {
    if (pastDeadline(saga, this.clock.now()) && !isForwardOnly(definition)) {
      await this.beginCompensation(saga, fence, {
        code: 'DEADLINE_EXCEEDED',
        message: 'the saga did not finish before its deadline',
      });
      return null;
    }
    const results = resultsOf(saga);
    const group = definition.groups.find((g) => g.some((s) => stepOf(saga, s.name).state !== StepState.SUCCEEDED));
    if (!group) {
      await this.log.setSaga(saga.id, fence, {
        state: SagaState.SUCCEEDED,
        output: definition.output?.(results) ?? results,
      });
      this.metrics?.left(saga.name, SagaState.RUNNING, saga.createdAt.getTime(), this.clock.now());
      this.metrics?.finish(saga.name, SagaState.SUCCEEDED);
      return { ...saga, state: SagaState.SUCCEEDED };
    }
    const todo = group.filter((s) => stepOf(saga, s.name).state !== StepState.SUCCEEDED);
    const next = todo.length === 1 ? nextIntentAfter(definition, group, saga) : undefined;
    const outcomes = await Promise.allSettled(todo.map((s) => this.runStep(saga, s, fence, results, next)));
    const lost = outcomes.find(
      (o) => o.status === 'rejected' && (o.reason as { code?: string }).code === SagaErrorCode.SAGA_LEASE_LOST,
    );
    if (lost) throw (lost as PromiseRejectedResult).reason;
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (!failed) {
      const done = new Map(
        todo.map((s, i) => [s.name, (outcomes[i] as PromiseFulfilledResult<StepDone>).value] as const),
      );
      if ([...done.values()].some((d) => d.waited)) return null;
      return {
        ...saga,
        steps: saga.steps.map((s) => {
          const d = done.get(s.step);
          return d
            ? {
                ...s,
                state: StepState.SUCCEEDED,
                attempts: d.attempts,
                output: d.output,
                error: null,
                nextAttemptAt: null,
              }
            : s;
        }),
      };
    }
    const reason = failed.reason instanceof StepFailed ? failed.reason : new StepFailed('unknown', failed.reason);
    const error = { step: reason.step, ...describeError(reason.reason) };
    if (isForwardOnly(definition)) {
      await this.log.setSaga(saga.id, fence, { state: SagaState.FAILED, error });
      this.metrics?.left(saga.name, SagaState.RUNNING, saga.createdAt.getTime(), this.clock.now());
      this.metrics?.finish(saga.name, SagaState.FAILED);
      this.logger.warn(
        { sagaId: saga.id, saga: saga.name, ...error },
        'forward-only saga failed; parked for an operator',
      );
    } else {
      await this.beginCompensation(saga, fence, error);
    }
    return null;
  }

  private async beginCompensation(saga: SagaRecord, fence: number, error: unknown): Promise<void> {
    await this.log.setSaga(saga.id, fence, { state: SagaState.COMPENSATING, error });
    this.metrics?.left(saga.name, SagaState.RUNNING, saga.createdAt.getTime(), this.clock.now());
    CrashPoints.hit(SagaCrashPoint.AFTER_COMPENSATING);
    for (const notify of [...(this.compensationWaiters.get(saga.id) ?? [])]) notify();
  }

  /**
   * One step, retried per its policy: an unknown outcome for its window, a failed attempt up to
   * `maxAttempts`; throws StepFailed on a business failure, a closed window or exhausted attempts.
   */
  private async runStep(
    saga: SagaRecord,
    step: StepDefinition<never>,
    fence: number,
    results: Record<string, unknown>,
    nextIntent?: { readonly step: string; readonly attempts: number },
  ): Promise<StepDone> {
    const policy = { ...DEFAULT_RETRY, ...(step.retry ?? {}) };
    const record = stepOf(saga, step.name);
    let attempt = record.attempts;
    const window = new UnknownWindow(this.windowOf(policy), record.unknownSince, record.retryUntil);
    // Time waited in a window that closed with an answer moves the deadline (as the log does).
    let deadlineAt = saga.deadlineAt.getTime();
    let waited = false; // a window closed with an answer: the log moved the deadline
    // Attempts answered with an error count against maxAttempts; unanswered ones only against the window.
    let failedAttempts = 0;
    await this.sleepUntil(record.nextAttemptAt); // a resumed saga keeps its logged backoff
    for (;;) {
      attempt++;
      // The intent is durable before anything is sent: a crash from here on resends with the same
      // key. The first attempt's may have been logged with the previous step's result.
      const logged = this.loggedIntents.get(saga.id) === `${step.name}:${attempt}`;
      this.loggedIntents.delete(saga.id);
      if (!logged)
        await this.log.setStep(
          saga.id,
          fence,
          step.name,
          { state: StepState.RUNNING, attempts: attempt },
          SagaState.RUNNING,
        );
      CrashPoints.hit(SagaCrashPoint.AFTER_STEP_INTENT);
      const sent = this.clock.now();
      try {
        const output = await this.invoke(saga, step, attempt, results, 'action');
        this.metrics?.attempt(saga.name, step.name, 'action', 'ok', sent, this.clock.now());
        CrashPoints.hit(SagaCrashPoint.AFTER_STEP_ACTION);
        const persisted = step.persist ? step.persist(output) : output;
        const answered = window.answered(this.clock.now());
        const recorded = await this.log.setStep(
          saga.id,
          fence,
          step.name,
          { state: StepState.SUCCEEDED, output: persisted ?? null, error: null, ...answered },
          SagaState.RUNNING,
          nextIntent,
        );
        if (!recorded) throw new StepFailed(step.name, SagaException.leaseLost(saga.id)); // compensating meanwhile: late reply ignored
        if (nextIntent) this.loggedIntents.set(saga.id, `${nextIntent.step}:${nextIntent.attempts}`);
        CrashPoints.hit(SagaCrashPoint.AFTER_STEP_RESULT);
        results[step.name] = persisted;
        return { output: persisted ?? null, attempts: attempt, waited: waited || answered.unknown !== undefined };
      } catch (error) {
        if ((error as { code?: string }).code === SagaErrorCode.SAGA_LEASE_LOST) throw error;
        const failure = classifyFailure(error, policy);
        this.metrics?.attempt(saga.name, step.name, 'action', failure, sent, this.clock.now());
        const now = this.clock.now();
        if (failure === 'unknown') {
          window.open(now);
          if (window.closed(now)) {
            const given = SagaException.unanswered(step.name, window.lengthMs, describeError(error));
            await this.log.setStep(saga.id, fence, step.name, { state: StepState.FAILED, error: describeError(given) });
            throw new StepFailed(step.name, given);
          }
          const next = window.nextAttempt(now, backoffMs(policy, attempt));
          await this.log.setStep(saga.id, fence, step.name, {
            error: describeError(error),
            unknown: window.logged(next),
          });
          await this.clock.sleep(next.getTime() - now);
        } else {
          deadlineAt += window.openMs(now);
          const answered = window.answered(now);
          if (answered.unknown) waited = true;
          failedAttempts++;
          const deadlinePassed = now > deadlineAt && policy.maxAttempts !== Infinity;
          if (failure === 'business' || failedAttempts >= policy.maxAttempts || deadlinePassed) {
            await this.log.setStep(saga.id, fence, step.name, {
              state: StepState.FAILED,
              error: describeError(error),
              ...answered,
            });
            throw new StepFailed(step.name, error);
          }
          await this.log.setStep(saga.id, fence, step.name, { error: describeError(error), ...answered });
          await this.clock.sleep(backoffMs(policy, failedAttempts));
        }
        if (this.stopped) throw SagaException.leaseLost(saga.id);
      }
    }
  }

  /** Compensates, group by group in reverse, every step that may have acted. */
  private async compensate(saga: SagaRecord, definition: SagaDefinition<never>, fence: number): Promise<void> {
    const began = this.clock.now();
    const results = resultsOf(saga);
    let failed = false;
    for (const group of [...definition.groups].reverse()) {
      const todo = group.filter((s) => needsCompensation(stepOf(saga, s.name)) && s.compensation);
      const outcomes = await Promise.allSettled(todo.map((s) => this.compensateStep(saga, s, fence, results)));
      const lost = outcomes.find(
        (o) => o.status === 'rejected' && (o.reason as { code?: string }).code === SagaErrorCode.SAGA_LEASE_LOST,
      );
      if (lost) throw (lost as PromiseRejectedResult).reason;
      if (outcomes.some((o) => o.status === 'fulfilled' && o.value === false)) failed = true;
    }
    if (failed) {
      await this.log.setSaga(saga.id, fence, {
        state: SagaState.COMPENSATION_FAILED,
        error: {
          code: 'COMPENSATION_FAILED',
          message: 'a compensation kept failing; retry or skip it',
          cause: saga.error,
        },
      });
      this.logger.error({ sagaId: saga.id, saga: saga.name }, 'compensation failed; saga parked for an operator');
    } else {
      await this.log.setSaga(saga.id, fence, { state: SagaState.COMPENSATED });
    }
    this.metrics?.left(saga.name, SagaState.COMPENSATING, began, this.clock.now());
    this.metrics?.finish(saga.name, failed ? SagaState.COMPENSATION_FAILED : SagaState.COMPENSATED);
  }

  /**
   * Runs one compensation: an unknown outcome is retried for the window, a failed attempt up to
   * the compensation policy's attempts; false when it gave up (the step is marked
   * COMPENSATION_FAILED).
   */
  private async compensateStep(
    saga: SagaRecord,
    step: StepDefinition<never>,
    fence: number,
    results: Record<string, unknown>,
  ): Promise<boolean> {
    const policy = { ...DEFAULT_COMPENSATION_RETRY, ...(step.compensationRetry ?? {}) };
    const record = stepOf(saga, step.name);
    let attempt = record.compensationAttempts;
    let failures = 0;
    // A window logged by a compensation still going on is kept; one left by the action is not.
    const resumed = record.state === StepState.COMPENSATING;
    const window = new UnknownWindow(
      this.windowOf(policy, this.compensationWindowMs),
      resumed ? record.unknownSince : null,
      resumed ? record.retryUntil : null,
    );
    if (resumed) await this.sleepUntil(record.nextAttemptAt);
    let staleWindow = !resumed && record.unknownSince !== null;
    for (;;) {
      attempt++;
      await this.log.setStep(saga.id, fence, step.name, {
        state: StepState.COMPENSATING,
        compensationAttempts: attempt,
        // The action's window (if it left one) is cleared once, with the first compensation intent.
        ...(staleWindow ? { unknown: { answeredAt: new Date(this.clock.now()) } } : {}),
      });
      staleWindow = false;
      CrashPoints.hit(SagaCrashPoint.AFTER_COMPENSATION_INTENT);
      const sent = this.clock.now();
      try {
        await this.invoke(saga, step, attempt, results, 'compensation');
        this.metrics?.attempt(saga.name, step.name, 'compensation', 'ok', sent, this.clock.now());
        await this.log.setStep(saga.id, fence, step.name, {
          state: StepState.COMPENSATED,
          ...window.answered(this.clock.now()),
        });
        CrashPoints.hit(SagaCrashPoint.AFTER_COMPENSATION);
        return true;
      } catch (error) {
        if ((error as { code?: string }).code === SagaErrorCode.SAGA_LEASE_LOST) throw error;
        const now = this.clock.now();
        const failure = classifyFailure(error, policy);
        this.metrics?.attempt(saga.name, step.name, 'compensation', failure, sent, this.clock.now());
        const unknown = failure === 'unknown';
        if (unknown) window.open(now);
        else failures++;
        if (unknown ? window.closed(now) : failures >= policy.maxAttempts) {
          const given = unknown ? SagaException.unanswered(step.name, window.lengthMs, describeError(error)) : error;
          await this.log.setStep(saga.id, fence, step.name, {
            state: StepState.COMPENSATION_FAILED,
            error: describeError(given),
          });
          return false;
        }
        const next = window.nextAttempt(
          now,
          backoffMs(policy, unknown ? attempt - record.compensationAttempts : failures),
        );
        await this.log.setStep(saga.id, fence, step.name, {
          error: describeError(error),
          unknown: unknown ? window.logged(next) : window.answered(now).unknown,
        });
        await this.clock.sleep(next.getTime() - now);
        if (this.stopped) throw SagaException.leaseLost(saga.id);
      }
    }
  }

  /**
   * The unknown-outcome window of a policy (`fallback`: the orchestrator's, for actions or for
   * compensations): unbounded for steps that must eventually succeed.
   */
  private windowOf(policy: RetryPolicy, fallback = this.unknownOutcomeWindowMs): number {
    if (policy.maxAttempts === Infinity) return Infinity;
    return policy.unknownOutcomeWindowMs ?? fallback;
  }

  private async sleepUntil(at: Date | null): Promise<void> {
    const wait = at === null ? 0 : at.getTime() - this.clock.now();
    if (wait > 0) await this.clock.sleep(wait);
  }

  /** Calls the action or compensation inside a request context (tenant, correlation = saga id, step deadline). */
  private invoke(
    saga: SagaRecord,
    step: StepDefinition<never>,
    attempt: number,
    results: Record<string, unknown>,
    phase: 'action' | 'compensation',
  ): Promise<unknown> {
    const timeoutMs = step.timeoutMs ?? 5_000;
    const context: StepContext<never> = {
      sagaId: saga.id,
      tenant: (saga.tenant as TenantSlug | null) ?? null,
      input: saga.input as never,
      results,
      key: `${saga.id}:${step.name}`,
      attempt,
    };
    const requestContext = newRequestContext({
      correlationId: saga.id,
      deadline: Date.now() + timeoutMs,
      ...(saga.tenant ? { tenant: saga.tenant as TenantSlug } : {}),
      ...(saga.actor ? { actor: saga.actor } : {}),
    });
    const work = phase === 'action' ? () => step.action(context) : () => step.compensation!(context);
    return traceStep(saga, step.name, phase, attempt, () =>
      RequestContextStore.run(requestContext, () => withTimeout(work(), timeoutMs, step.name)),
    );
  }
}

function withTimeout<T>(work: Promise<T>, ms: number, step: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(SagaException.stepTimeout(step, ms)), ms + 100);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function stepOf(saga: SagaRecord, name: string): StepRecord {
  const found = saga.steps.find((s) => s.step === name);
  if (!found) throw new Error(`saga ${saga.id} has no step ${name}`);
  return found;
}

function resultsOf(saga: SagaRecord): Record<string, unknown> {
  return Object.fromEntries(
    saga.steps
      .filter((s) => s.state === StepState.SUCCEEDED || s.state === StepState.COMPENSATING)
      .map((s) => [s.step, s.output]),
  );
}

/** Anything dispatched at least once may have acted; so may a step whose compensation is pending or failed. */
function needsCompensation(step: StepRecord): boolean {
  return (
    step.state === StepState.SUCCEEDED ||
    step.state === StepState.RUNNING ||
    step.state === StepState.COMPENSATING ||
    step.state === StepState.COMPENSATION_FAILED ||
    (step.state === StepState.FAILED && step.attempts > 0)
  );
}

/**
 * True once the saga is past its deadline, not counting the time a step has been waiting for a
 * participant that does not answer (an open unknown-outcome window).
 */
function pastDeadline(saga: SagaRecord, now: number): boolean {
  const waitingSince = saga.steps.reduce(
    (earliest, s) => (s.unknownSince === null ? earliest : Math.min(earliest, s.unknownSince.getTime())),
    now,
  );
  return waitingSince > saga.deadlineAt.getTime();
}

/**
 * The unknown-outcome window of one step: opened by its first attempt without an answer (or
 * found open in the log), closed by an answer or when `lengthMs` have passed.
 */
class UnknownWindow {
  private since: number | null;
  private until: number | null;

  constructor(
    readonly lengthMs: number,
    since: Date | null,
    until: Date | null,
  ) {
    this.since = since?.getTime() ?? null;
    this.until = until?.getTime() ?? null;
  }

  open(now: number): void {
    if (this.since !== null) return;
    this.since = now;
    this.until = this.lengthMs === Infinity ? null : now + this.lengthMs;
  }

  closed(now: number): boolean {
    return this.until !== null && now >= this.until;
  }

  /** How long it has been open (0 when it is not). */
  openMs(now: number): number {
    return this.since === null ? 0 : Math.max(0, now - this.since);
  }

  /** When to try again: after `backoffMs`, but not past the window's end (one last attempt there). */
  nextAttempt(now: number, backoffMs: number): Date {
    return new Date(this.until === null ? now + backoffMs : Math.min(now + backoffMs, this.until));
  }

  /** The log's record of the open window. */
  logged(nextAttemptAt: Date): { since: Date; until: Date | null; nextAttemptAt: Date } {
    return { since: new Date(this.since!), until: this.until === null ? null : new Date(this.until), nextAttemptAt };
  }

  /** The patch that closes the window in the log (nothing when it is not open). */
  answered(now: number): { unknown?: { answeredAt: Date } } {
    if (this.since === null) return {};
    this.since = null;
    this.until = null;
    return { unknown: { answeredAt: new Date(now) } };
  }
}

function isActive(state: SagaState): boolean {
  return !TERMINAL_STATES.includes(state) && state !== SagaState.FAILED && state !== SagaState.COMPENSATION_FAILED;
}

/** The error a COMPENSATION_FAILED saga parked with wraps the one that began the undo (`cause`). */
function causeOf(error: unknown): unknown {
  return error !== null && typeof error === 'object' && 'cause' in error ? (error.cause ?? null) : null;
}

/**
 * The intent to log with the result of `group`'s one step: the first attempt of the next step,
 * when the next group is that one step and it has not been tried (one write per transition; a
 * group of parallel steps logs its intents one by one).
 */
function nextIntentAfter(
  definition: SagaDefinition<never>,
  group: readonly StepDefinition<never>[],
  saga: SagaRecord,
): { step: string; attempts: number } | undefined {
  if (group.length !== 1) return undefined;
  const following = definition.groups[definition.groups.indexOf(group) + 1];
  if (following?.length !== 1) return undefined;
  const record = stepOf(saga, following[0]!.name);
  if (record.state !== StepState.PENDING) return undefined;
  return { step: record.step, attempts: record.attempts + 1 };
}
