import { Inject, Injectable } from '@nestjs/common';
import { SYSTEM_DATA_SOURCE } from '#polystore/catalog';
import { BUILTIN_JOBS, JobRunLog, JobScheduler, slotOf, type RunRecord } from '#polystore/jobs';
import type { DataSource } from 'typeorm';

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
}
