import { Logger } from '@nestjs/common';
import type { MessageClient } from '#polystore/messaging';
import { CatalogErrorCode } from '#polystore/catalog';
import { isCodedError } from '#polystore/platform';
import type { Registry } from 'prom-client';
import { JobMetrics } from './job-metrics.js';
import { JobsException } from './jobs.exception.js';
import type { JobRunLog, RunRecord } from './job-run-log.js';
import type { TenantJob } from './tenant-job.js';
import { forEachTenant, TenantSkipped, type RunProgress, type TenantRunReport } from './tenant-iterator.js';

export interface JobSchedulerOptions {
  /** This process, as lease owner (unique across replicas). */
  readonly owner: string;
  readonly jobs: readonly TenantJob[];
  readonly log: JobRunLog;
  readonly messages: MessageClient;
  /** Slugs of the tenants a run covers (the active ones), read when a run starts. */
  readonly tenants: () => Promise<string[]>;
  /** A run's lease: how soon another replica resumes the run of one that died. */
  readonly leaseMs: number;
  /** How often due slots and abandoned runs are looked for (0: never, manual runs only). */
  readonly tickMs: number;
  /** Per-job interval overrides (tests, operations). */
  readonly intervals?: Readonly<Record<string, number>>;
  /** Where the job metrics go (see {@link JobMetrics}); none when absent. */
  readonly metrics?: Registry;
}

/** A run's result with its id and whether it picked up an earlier attempt. */
export interface JobRunResult extends TenantRunReport {
  readonly runId: string;
  readonly job: string;
  /** Finished, or let go (shutdown, lease lost): resumable. */
  readonly state: 'FINISHED' | 'RELEASED';
}

/**
 * Runs tenant jobs on their schedule, once across replicas, and on demand.
 *
 * Slots are aligned to the epoch (`floor(now / interval)`); the first replica to insert the
 * run of a slot drives it (a unique index on `(job, slot)`), the others see the row and do
 * nothing. The driver holds a lease it renews while working; when it dies, the lease expires
 * and the next tick of any replica claims the run and continues it from its checkpoint.
 */
export class JobScheduler {
  private readonly logger = new Logger(JobScheduler.name);
  private readonly running = new Map<string, AbortController>();
  private readonly active = new Set<Promise<unknown>>();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly metrics?: JobMetrics;

  constructor(private readonly options: JobSchedulerOptions) {
    if (options.metrics) this.metrics = new JobMetrics(options.metrics);
  }

  get jobs(): readonly TenantJob[] {
    return this.options.jobs;
  }

  job(name: string): TenantJob {
    const job = this.options.jobs.find((j) => j.name === name);
    if (!job)
      throw JobsException.unknownJob(
        name,
        this.options.jobs.map((j) => j.name),
      );
    return job;
  }

  intervalOf(job: TenantJob): number {
    return this.options.intervals?.[job.name] ?? job.intervalMs;
  }

  start(): void {
    if (this.options.tickMs <= 0 || this.timer) return;
    const loop = () => {
      this.timer = setTimeout(() => {
        void this.tick().finally(() => {
          if (!this.stopped) loop();
        });
      }, this.options.tickMs);
      this.timer.unref();
    };
    loop();
  }

  /** Stops scheduling, aborts running work and releases its runs for another replica. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const controller of this.running.values()) controller.abort();
    await Promise.allSettled([...this.active]);
  }

  /**
   * One look at every job not running here: an abandoned run to resume, else the current slot
   * to start. Resolves once the runs are started, not finished.
   */
  async tick(now = new Date()): Promise<void> {
    await Promise.all(
      this.options.jobs
        .filter((job) => !this.running.has(job.name))
        .map(async (job) => {
          try {
            const run =
              (await this.options.log.claimAbandoned(job.name, this.options.owner, this.options.leaseMs)) ??
              (await this.options.log.start(job.name, {
                owner: this.options.owner,
                leaseMs: this.options.leaseMs,
                slot: slotOf(now, this.intervalOf(job)),
              }));
            // Not awaited: a long run of one job must not hold up the ticks of the others.
            if (run)
              void this.track(this.drive(job, run)).catch((error: unknown) =>
                this.logger.warn(
                  { job: job.name, runId: run.id, err: error },
                  'job run failed; it is resumed once its lease expires',
                ),
              );
          } catch (error) {
            this.logger.warn({ job: job.name, err: error }, 'job tick failed');
          }
        }),
    );
  }

  /**
   * Runs `job` now, outside the schedule (the CLI, operators). With `resume`, an abandoned
   * manual run of the same job and tenants continues from its checkpoint instead.
   */
  async runNow(
    name: string,
    options: {
      tenants?: string[];
      /** What else the run depends on (it is matched, with the tenants, when resuming). */
      params?: Record<string, unknown>;
      resume?: boolean;
      onProgress?: (p: RunProgress) => void;
      signal?: AbortSignal;
    } = {},
  ): Promise<JobRunResult> {
    const job = this.job(name);
    const params = { ...options.params, ...(options.tenants ? { tenants: [...options.tenants].sort() } : {}) };
    const run =
      (options.resume
        ? await this.options.log.claimAbandoned(job.name, this.options.owner, this.options.leaseMs, { params })
        : null) ??
      (await this.options.log.start(job.name, { owner: this.options.owner, leaseMs: this.options.leaseMs, params }))!;
    return this.track(this.drive(job, run, options.onProgress, options.signal));
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.active.add(work);
    return work.finally(() => this.active.delete(work));
  }

  private async drive(
    job: TenantJob,
    run: RunRecord,
    onProgress?: (p: RunProgress) => void,
    signal?: AbortSignal,
  ): Promise<JobRunResult> {
    const { log, owner, leaseMs, messages } = this.options;
    const controller = new AbortController();
    signal?.addEventListener('abort', () => controller.abort(), { once: true });
    this.running.set(job.name, controller);
    const ended = this.metrics?.started(job.name);
    const heartbeat = setInterval(
      () => {
        log.renew(run.id, owner, leaseMs).then(
          (held) => {
            if (!held) {
              this.logger.warn({ job: job.name, runId: run.id }, 'lease lost: another replica took the run over');
              controller.abort();
            }
          },
          (error: unknown) => this.logger.warn({ job: job.name, runId: run.id, err: error }, 'lease renewal failed'),
        );
      },
      Math.max(50, Math.floor(leaseMs / 3)),
    );
    const now = run.slot ?? run.createdAt;
    try {
      const requested = run.params['tenants'];
      const tenants = Array.isArray(requested) ? (requested as string[]) : await this.options.tenants();
      this.logger.log({ job: job.name, runId: run.id, tenants: tenants.length }, 'job run started');
      const report = await forEachTenant({
        tenants,
        concurrency: job.concurrency,
        tenantTimeoutMs: job.tenantTimeoutMs,
        signal: controller.signal,
        checkpoint: { log, runId: run.id },
        ...(onProgress ? { onProgress } : {}),
        work: (tenant, tenantSignal) => skipWithoutDatabase(job.run(tenant, { signal: tenantSignal, now, messages })),
      });
      const state = report.cancelled ? 'RELEASED' : 'FINISHED';
      if (report.cancelled) await log.release(run.id, owner);
      else await log.finish(run.id, owner, 'FINISHED', report);
      ended?.(report.cancelled ? 'released' : 'finished', report);
      this.logger.log(
        {
          job: job.name,
          runId: run.id,
          ok: report.ok,
          failed: report.failed,
          skipped: report.skipped,
          resumed: report.resumed,
          state,
        },
        'job run ended',
      );
      return { ...report, runId: run.id, job: job.name, state };
    } catch (error) {
      ended?.('failed');
      throw error;
    } finally {
      clearInterval(heartbeat);
      this.running.delete(job.name);
    }
  }
}

/**
 * A tenant with no database in a store the job needs (a deployment without that store, or a
 * tenant created before it was added) has nothing to do there: `skipped`, not `failed`.
 */
async function skipWithoutDatabase<R>(work: Promise<R>): Promise<R> {
  try {
    return await work;
  } catch (error) {
    if (isCodedError(error) && error.code === CatalogErrorCode.PLACEMENT_NOT_FOUND)
      throw new TenantSkipped(error.message);
    throw error;
  }
}

/** Start of the slot of `interval` that `now` falls in (slots are aligned to the epoch). */
export function slotOf(now: Date, intervalMs: number): Date {
  return new Date(Math.floor(now.getTime() / intervalMs) * intervalMs);
}
