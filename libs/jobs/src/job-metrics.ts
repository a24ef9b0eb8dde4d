import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { TenantRunReport } from './tenant-iterator.js';

/** How a run driven by this process ended: finished, let go (shutdown, lease lost), or failed (it threw). */
export type RunEnd = 'finished' | 'released' | 'failed';

/**
 * The scheduler's metrics, by job (a handful of names; never a tenant):
 * - `polystore_job_runs_total{job,state}` and `polystore_job_run_seconds{job,state}`: runs this
 *   process drove, by how they ended (`finished`, `released`, `failed`), and how long they took;
 * - `polystore_job_tenants_total{job,status}`: tenant outcomes of those runs (`ok`, `failed`, `skipped`);
 * - `polystore_job_runs_in_progress{job}`: runs this process is driving now;
 * - `polystore_job_last_success_timestamp_seconds{job}`: when a run of the job last finished here
 *   (replicas take turns: alert on the `max` across them).
 * Two schedulers on one registry (tests) share the metrics.
 */
export class JobMetrics {
  private readonly runs: Counter<'job' | 'state'>;
  private readonly durations: Histogram<'job' | 'state'>;
  private readonly tenants: Counter<'job' | 'status'>;
  private readonly lastSuccess: Gauge<'job'>;
  private readonly inProgress: Gauge<'job'>;

  constructor(registry: Registry) {
    const existing = <T>(name: string) => registry.getSingleMetric(name) as T | undefined;
    this.runs =
      existing('polystore_job_runs_total') ??
      new Counter({
        name: 'polystore_job_runs_total',
        help: 'Job runs this process drove, by how they ended (finished, released, failed)',
        labelNames: ['job', 'state'],
        registers: [registry],
      });
    this.durations =
      existing('polystore_job_run_seconds') ??
      new Histogram({
        name: 'polystore_job_run_seconds',
        help: 'Time a job run driven by this process took, by how it ended',
        labelNames: ['job', 'state'],
        buckets: [0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
        registers: [registry],
      });
    this.tenants =
      existing('polystore_job_tenants_total') ??
      new Counter({
        name: 'polystore_job_tenants_total',
        help: 'Tenant outcomes of the job runs this process drove (ok, failed, skipped)',
        labelNames: ['job', 'status'],
        registers: [registry],
      });
    this.lastSuccess =
      existing('polystore_job_last_success_timestamp_seconds') ??
      new Gauge({
        name: 'polystore_job_last_success_timestamp_seconds',
        help: 'Unix time a run of the job last finished in this process',
        labelNames: ['job'],
        registers: [registry],
      });
    this.inProgress =
      existing('polystore_job_runs_in_progress') ??
      new Gauge({
        name: 'polystore_job_runs_in_progress',
        help: 'Job runs this process is driving now',
        labelNames: ['job'],
        registers: [registry],
      });
  }

  /** A run of `job` starts here; call the returned function once it ends. */
  started(job: string): (state: RunEnd, report?: TenantRunReport) => void {
    const startedAt = Date.now();
    this.inProgress.inc({ job });
    return (state, report) => {
      const now = Date.now();
      this.inProgress.dec({ job });
      this.runs.inc({ job, state });
      this.durations.observe({ job, state }, (now - startedAt) / 1000);
      if (report) {
        this.tenants.inc({ job, status: 'ok' }, report.ok);
        this.tenants.inc({ job, status: 'failed' }, report.failed);
        this.tenants.inc({ job, status: 'skipped' }, report.skipped);
      }
      if (state === 'finished') this.lastSuccess.set({ job }, now / 1000);
    };
  }
}
