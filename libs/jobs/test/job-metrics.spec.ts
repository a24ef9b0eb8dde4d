import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { JobMetrics } from '../src/job-metrics.js';

const REPORT = { total: 5, ok: 3, failed: 1, skipped: 1, resumed: 0, cancelled: false, durationMs: 10, outcomes: [] };

describe('job metrics - runs by how they ended, tenant outcomes, last success', () => {
  it('job metrics - a finished, a released and a failed run are counted apart; only the finished one is a success', async () => {
    const registry = new Registry();
    const metrics = new JobMetrics(registry);
    const before = Date.now() / 1000;
    const finished = metrics.started('usage-rollup');
    const failed = metrics.started('usage-rollup');
    const text = await registry.metrics();
    expect(text).toContain('polystore_job_runs_in_progress{job="usage-rollup"} 2');
    finished('finished', REPORT);
    failed('failed');
    metrics.started('device-offline')('released', { ...REPORT, cancelled: true });

    const after = await registry.metrics();
    expect(after).toContain('polystore_job_runs_total{job="usage-rollup",state="finished"} 1');
    expect(after).toContain('polystore_job_runs_total{job="usage-rollup",state="failed"} 1');
    expect(after).toContain('polystore_job_runs_total{job="device-offline",state="released"} 1');
    expect(after).toContain('polystore_job_tenants_total{job="usage-rollup",status="failed"} 1');
    expect(after).toContain('polystore_job_runs_in_progress{job="usage-rollup"} 0');
    expect(after).toContain('polystore_job_run_seconds_count{job="usage-rollup",state="finished"} 1');
    const success = (await registry.getSingleMetric('polystore_job_last_success_timestamp_seconds')!.get()).values;
    expect(success.map((v) => v.labels['job'])).toEqual(['usage-rollup']);
    expect(success[0]!.value).toBeGreaterThanOrEqual(before);
    // A second scheduler on the same registry shares the metrics instead of failing.
    expect(() => new JobMetrics(registry)).not.toThrow();
  });
});
