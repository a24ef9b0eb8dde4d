import { isCodedError } from '#polystore/platform';
import { runAsTenant, type TenantSlug } from '#polystore/tenancy';
import pLimit from 'p-limit';
import type { JobRunLog, TenantOutcome } from './job-run-log.js';

/** Thrown by a tenant's work to report the tenant `skipped` (nothing to do), not failed. */
export class TenantSkipped extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'TenantSkipped';
  }
}

/** Where a run is, after each tenant. */
export interface RunProgress {
  readonly total: number;
  readonly done: number;
  readonly ok: number;
  readonly failed: number;
  readonly skipped: number;
  readonly elapsedMs: number;
  /** Estimated time left, from the mean time per tenant so far (undefined before the first). */
  readonly etaMs?: number;
  /** The outcome that moved the run forward. */
  readonly last: TenantOutcome;
}

export interface TenantRunReport {
  readonly total: number;
  readonly ok: number;
  readonly failed: number;
  readonly skipped: number;
  /** Tenants taken from the checkpoint of an earlier attempt instead of being run again. */
  readonly resumed: number;
  /** The signal aborted the run: tenants not started are `skipped` with code `CANCELLED`. */
  readonly cancelled: boolean;
  readonly durationMs: number;
  /** One per tenant, in the order of `tenants`. */
  readonly outcomes: TenantOutcome[];
}

export interface ForEachTenantOptions<R> {
  readonly tenants: readonly string[];
  /** Tenants worked on at once. */
  readonly concurrency: number;
  /** One tenant's work longer than this is reported failed with code `TIMEOUT` (its signal aborts). */
  readonly tenantTimeoutMs: number;
  /** Aborting it (shutdown) starts no more tenants and aborts the running ones' signals. */
  readonly signal?: AbortSignal;
  /**
   * Makes the run resumable: each outcome is recorded as it happens, and tenants the run
   * already finished (`ok` or `skipped`) are not run again. Failed tenants are.
   */
  readonly checkpoint?: { readonly log: JobRunLog; readonly runId: string };
  readonly onProgress?: (progress: RunProgress) => void;
  /** The work for one tenant, run in a context for that tenant with the per-tenant deadline. */
  readonly work: (tenant: TenantSlug, signal: AbortSignal) => Promise<R>;
}

/**
 * Runs `work` for every tenant with bounded concurrency, a per-tenant timeout and failure
 * isolation: one tenant's error (a dropped database, a store down) is its outcome, and the
 * others proceed. Never throws for a tenant's failure; throws only if the checkpoint cannot
 * be written (the run is then left resumable).
 *
 * A timed-out tenant's work is told to stop (its signal aborts) but is not awaited: its slot
 * is given to the next tenant, so a hung database cannot stall the run.
 */
export async function forEachTenant<R>(options: ForEachTenantOptions<R>): Promise<TenantRunReport> {
  const started = performance.now();
  const finished = new Map<string, TenantOutcome>();
  if (options.checkpoint) {
    for (const outcome of await options.checkpoint.log.outcomes(options.checkpoint.runId))
      if (outcome.status !== 'failed') finished.set(outcome.tenant, { ...outcome, fromCheckpoint: true });
  }

  const outcomes = new Map<string, TenantOutcome>(finished);
  const counts = { ok: 0, failed: 0, skipped: 0 };
  for (const outcome of finished.values()) counts[outcome.status]++;
  const total = options.tenants.length;
  let ranHere = 0;
  let checkpointError: unknown;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const settle = async (outcome: TenantOutcome): Promise<void> => {
    outcomes.set(outcome.tenant, outcome);
    counts[outcome.status]++;
    ranHere++;
    const cancelled = outcome.error?.code === 'CANCELLED';
    if (options.checkpoint && !cancelled) {
      try {
        await options.checkpoint.log.record(options.checkpoint.runId, outcome);
      } catch (error) {
        checkpointError ??= error;
        stop.abort();
      }
    }
    const elapsedMs = performance.now() - started;
    const done = outcomes.size;
    options.onProgress?.({
      total,
      done,
      ...counts,
      elapsedMs,
      etaMs: ranHere > 0 ? ((total - done) * elapsedMs) / ranHere : undefined,
      last: outcome,
    });
  };

  const limit = pLimit(Math.max(1, options.concurrency));
  try {
    await Promise.all(
      options.tenants
        .filter((tenant) => !finished.has(tenant))
        .map((tenant) =>
          limit(async () => {
            if (stop.signal.aborted) return settle({ tenant, status: 'skipped', durationMs: 0, error: CANCELLED });
            return settle(await runOne(tenant as TenantSlug, options, stop.signal));
          }),
        ),
    );
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (checkpointError) throw checkpointError instanceof Error ? checkpointError : new Error('checkpoint write failed');
  return {
    total,
    ...counts,
    resumed: finished.size,
    cancelled: options.signal?.aborted ?? false,
    durationMs: performance.now() - started,
    outcomes: options.tenants.map((tenant) => outcomes.get(tenant)!),
  };
}

const CANCELLED = { code: 'CANCELLED', message: 'the run was cancelled before this tenant started' } as const;

async function runOne<R>(
  tenant: TenantSlug,
  options: ForEachTenantOptions<R>,
  stop: AbortSignal,
): Promise<TenantOutcome> {
  const started = performance.now();
  const controller = new AbortController();
  const onStop = () => controller.abort();
  stop.addEventListener('abort', onStop, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new TenantTimeout(options.tenantTimeoutMs));
    }, options.tenantTimeoutMs);
  });
  try {
    const result = await Promise.race([
      runAsTenant(tenant, () => options.work(tenant, controller.signal), options.tenantTimeoutMs),
      timeout,
    ]);
    return {
      tenant,
      status: 'ok',
      durationMs: performance.now() - started,
      ...(result === undefined ? {} : { result }),
    };
  } catch (error) {
    const durationMs = performance.now() - started;
    if (error instanceof TenantSkipped)
      return { tenant, status: 'skipped', durationMs, error: { code: 'SKIPPED', message: error.reason } };
    return { tenant, status: 'failed', durationMs, error: describeFailure(error) };
  } finally {
    clearTimeout(timer);
    stop.removeEventListener('abort', onStop);
  }
}

class TenantTimeout extends Error {
  readonly code = 'TIMEOUT';
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
  }
}

/**
 * A failure as reported: the error's code and message. Driver messages name objects (a
 * database, a constraint), not values; a driver's `detail`, which can quote values, is left out.
 */
function describeFailure(error: unknown): { code: string; message: string } {
  if (isCodedError(error)) return { code: error.code, message: error.message };
  if (error instanceof TenantTimeout) return { code: error.code, message: error.message };
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  return { code: typeof code === 'string' && code ? code : 'ERROR', message: message.slice(0, 500) };
}
