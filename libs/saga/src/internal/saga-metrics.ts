import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { AttemptFailure } from './outcome.js';

/**
 * The orchestrator's metrics:
 * - `polystore_sagas{saga,state}`: sagas in flight or parked, read from the log at scrape time
 *   (every process sees the same numbers);
 * - `polystore_saga_steps_waiting{saga}`: steps whose store has not answered (an open
 *   unknown-outcome window), from the log too;
 * - `polystore_saga_step_attempts_total{saga,step,phase,outcome}`: attempts this process made,
 *   by outcome (`ok`, `business`, `unknown`, `failed`): retries are the attempts past the first;
 * - `polystore_sagas_finished_total{saga,state}`: sagas this process brought to SUCCEEDED,
 *   COMPENSATED, FAILED or COMPENSATION_FAILED;
 * - `polystore_saga_state_duration_seconds{saga,state}`: how long a saga stayed RUNNING (from its
 *   start) or COMPENSATING (from when this process began compensating it) before leaving it;
 * - `polystore_saga_step_seconds{saga,step,phase,outcome}`: how long one attempt of a step (or of
 *   its compensation) took, from sending it to its answer or its giving up.
 */
export class SagaMetrics {
  private readonly attempts: Counter<'saga' | 'step' | 'phase' | 'outcome'>;
  private readonly finished: Counter<'saga' | 'state'>;
  private readonly durations: Histogram<'saga' | 'state'>;
  private readonly stepLatency: Histogram<'saga' | 'step' | 'phase' | 'outcome'>;

  constructor(registry: Registry, db: DataSource) {
    this.attempts = new Counter({
      name: 'polystore_saga_step_attempts_total',
      help: 'Saga step attempts made by this process, by phase and outcome (ok, business, unknown, failed)',
      labelNames: ['saga', 'step', 'phase', 'outcome'],
      registers: [registry],
    });
    this.finished = new Counter({
      name: 'polystore_sagas_finished_total',
      help: 'Sagas this process brought to a terminal or parked state',
      labelNames: ['saga', 'state'],
      registers: [registry],
    });
    this.durations = new Histogram({
      name: 'polystore_saga_state_duration_seconds',
      help: 'Time a saga stayed RUNNING (from its start) or COMPENSATING before leaving the state',
      labelNames: ['saga', 'state'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900],
      registers: [registry],
    });
    this.stepLatency = new Histogram({
      name: 'polystore_saga_step_seconds',
      help: 'Time one attempt of a saga step or compensation took, by phase and outcome',
      labelNames: ['saga', 'step', 'phase', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    new Gauge({
      name: 'polystore_sagas',
      help: 'Sagas in flight (PENDING, RUNNING, COMPENSATING) or parked (FAILED, COMPENSATION_FAILED), from the log',
      labelNames: ['saga', 'state'],
      registers: [registry],
      async collect() {
        this.reset();
        const rows: Array<{ name: string; state: string; n: number }> = await db.query(
          `SELECT name, state, count(*)::int AS n FROM sagas
           WHERE state IN ('PENDING', 'RUNNING', 'COMPENSATING', 'FAILED', 'COMPENSATION_FAILED')
           GROUP BY name, state`,
        );
        for (const row of rows) this.set({ saga: row.name, state: row.state }, row.n);
      },
    });
    new Gauge({
      name: 'polystore_saga_steps_waiting',
      help: 'Saga steps whose store has not answered (retried within the unknown-outcome window), from the log',
      labelNames: ['saga'],
      registers: [registry],
      async collect() {
        this.reset();
        const rows: Array<{ name: string; n: number }> = await db.query(
          `SELECT s.name, count(*)::int AS n FROM sagas s JOIN saga_steps st ON st.saga_id = s.id
           WHERE s.state IN ('PENDING', 'RUNNING', 'COMPENSATING') AND st.unknown_since IS NOT NULL
           GROUP BY s.name`,
        );
        for (const row of rows) this.set({ saga: row.name }, row.n);
      },
    });
  }

  /** One attempt, sent at `sinceMs` and answered (or given up) at `nowMs`. */
  attempt(
    saga: string,
    step: string,
    phase: 'action' | 'compensation',
    outcome: 'ok' | AttemptFailure,
    sinceMs: number,
    nowMs: number,
  ): void {
    this.attempts.inc({ saga, step, phase, outcome });
    this.stepLatency.observe({ saga, step, phase, outcome }, Math.max(0, nowMs - sinceMs) / 1000);
  }

  finish(saga: string, state: string): void {
    this.finished.inc({ saga, state });
  }

  left(saga: string, state: 'RUNNING' | 'COMPENSATING', sinceMs: number, nowMs: number): void {
    this.durations.observe({ saga, state }, Math.max(0, nowMs - sinceMs) / 1000);
  }
}
