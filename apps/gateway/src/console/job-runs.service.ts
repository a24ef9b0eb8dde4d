import { Inject, Injectable } from '@nestjs/common';
import { SYSTEM_DATA_SOURCE } from '#polystore/catalog';
import { BUILTIN_JOBS, JobRunLog, JobScheduler, slotOf, type RunRecord, type TenantOutcome } from '#polystore/jobs';
import type { DataSource } from 'typeorm';

/** Tenant outcomes a run page lists at most (failures first): a run over 10,000 tenants stays one page. */
export const RUN_OUTCOMES_SHOWN = 500;

/** One run and its tenants' outcomes, failed first, then skipped, then ok (each by tenant). */
export interface JobRunDetail {
  readonly run: RunRecord;
  readonly outcomes: readonly TenantOutcome[];
  /** Outcomes recorded in all (more than {@link outcomes} when cut at {@link RUN_OUTCOMES_SHOWN}). */
  readonly recorded: number;
}

const STATUS_ORDER: Record<string, number> = { failed: 0, skipped: 1, ok: 2 };

/** When a job scheduled by this gateway runs next: at a slot's start, or at the next tick when its slot is due. */
export interface NextRun {
  readonly at: Date;
  /** The current slot has no run yet: the next scheduler tick starts it. */
  readonly due: boolean;
}

/** One job on the jobs page: whether this gateway schedules it, its interval, its next run. */
export interface JobSchedule {
  readonly job: string;
  /** Null: not scheduled by this gateway (`JOBS`); run by another replica or by hand. */
  readonly intervalMs: number | null;
  readonly next: NextRun | null;
  readonly latest: RunRecord | null;
}

/**
 * The next run of a job scheduled every `intervalMs` (slots aligned to the epoch, as the
 * scheduler's), given the newest slot it has a run for: the start of the next slot once the
 * current one has its run, else now (the next tick starts the current slot).
 */
export function nextRunOf(now: Date, intervalMs: number, latestSlot: Date | null): NextRun {
  const current = slotOf(now, intervalMs);
  if (latestSlot && latestSlot.getTime() >= current.getTime())
    return { at: new Date(current.getTime() + intervalMs), due: false };
  return { at: now, due: true };
}

/**
 * The job runs of the catalog's `job_runs` (through `libs/jobs`'s run log, newest first, one
 * indexed query per job) and what this gateway's scheduler knows of the next ones.
 */
@Injectable()
export class JobRunsReader {
  private readonly log: JobRunLog;

  constructor(
    @Inject(SYSTEM_DATA_SOURCE) db: DataSource,
    private readonly scheduler: JobScheduler,
  ) {
    this.log = new JobRunLog(db);
  }

  /** The jobs worth listing: the built-in ones and those scheduled here, sorted. */
  jobNames(): string[] {
    return [...new Set([...BUILTIN_JOBS.map((job) => job.name), ...this.scheduler.jobs.map((job) => job.name)])].sort();
  }

  /** The newest `perJob` runs of each of `jobs`, in the order of `jobs`, and each job's schedule. */
  async latest(
    jobs: readonly string[],
    perJob: number,
    now = new Date(),
  ): Promise<{ runs: RunRecord[]; schedules: JobSchedule[] }> {
    const lists = await Promise.all(jobs.map((job) => this.log.list({ job, limit: perJob })));
    const schedules = jobs.map((job, i) => {
      const runs = lists[i]!;
      const scheduled = this.scheduler.jobs.find((j) => j.name === job);
      const intervalMs = scheduled ? this.scheduler.intervalOf(scheduled) : null;
      const latestSlot = runs.find((run) => run.slot !== null)?.slot ?? null;
      return {
        job,
        intervalMs,
        next: intervalMs === null ? null : nextRunOf(now, intervalMs, latestSlot),
        latest: runs[0] ?? null,
      };
    });
    return { runs: lists.flat(), schedules };
  }

  /** A run with its tenants' outcomes (see {@link JobRunDetail}); null when there is no such run. */
  async run(id: string): Promise<JobRunDetail | null> {
    const run = await this.log.get(id);
    if (!run) return null;
    const outcomes = [...(await this.log.outcomes(id))].sort(
      (a, b) => (STATUS_ORDER[a.status] ?? 3) - (STATUS_ORDER[b.status] ?? 3) || (a.tenant < b.tenant ? -1 : 1),
    );
    return { run, outcomes: outcomes.slice(0, RUN_OUTCOMES_SHOWN), recorded: outcomes.length };
  }
}
