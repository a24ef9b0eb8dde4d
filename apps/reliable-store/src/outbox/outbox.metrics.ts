import type { TenantSlug } from '#polystore/tenancy';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The outbox relay's metrics, with no tenant label (one process may serve 10,000 tenants):
 * - `polystore_outbox_events_published_total`: events this process published to the stream;
 * - `polystore_outbox_publish_delay_seconds`: from the commit that wrote an event to its publication;
 * - `polystore_outbox_backlog_events` / `polystore_outbox_backlog_tenants`: unpublished events,
 *   and tenants that have some, as this process's last drain of each tenant found them (a drain
 *   runs after every commit that wrote events and at every sweep, so a stuck outbox shows within
 *   `OUTBOX_SWEEP_INTERVAL_MS`);
 * - `polystore_outbox_oldest_event_age_seconds`: age, now, of the oldest of them (0 when none);
 * - `polystore_outbox_drain_failures_total`: drains that failed (the stream or the database away).
 * Replicas each report what they saw: aggregate with `max`, not `sum`.
 */
export class OutboxMetrics {
  private readonly backlogs = new Map<TenantSlug, { events: number; oldestAt: number }>();
  private readonly published: Counter;
  private readonly delay: Histogram;
  private readonly failures: Counter;

  constructor(registry: Registry) {
    this.published = new Counter({
      name: 'polystore_outbox_events_published_total',
      help: 'Outbox events published to the event stream by this process',
      registers: [registry],
    });
    this.delay = new Histogram({
      name: 'polystore_outbox_publish_delay_seconds',
      help: 'From the commit that wrote an outbox event to its publication on the stream',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    });
    this.failures = new Counter({
      name: 'polystore_outbox_drain_failures_total',
      help: "Drains of a tenant's outbox that failed (retried by the next commit or sweep)",
      registers: [registry],
    });
    const backlogs = this.backlogs;
    new Gauge({
      name: 'polystore_outbox_backlog_events',
      help: "Unpublished outbox events, summed over tenants, as this process's last drain of each found them",
      registers: [registry],
      collect() {
        this.set([...backlogs.values()].reduce((sum, b) => sum + b.events, 0));
      },
    });
    new Gauge({
      name: 'polystore_outbox_backlog_tenants',
      help: 'Tenants whose outbox had unpublished events at their last drain by this process',
      registers: [registry],
      collect() {
        this.set(backlogs.size);
      },
    });
    new Gauge({
      name: 'polystore_outbox_oldest_event_age_seconds',
      help: 'Age of the oldest unpublished outbox event seen by this process (0 when none)',
      registers: [registry],
      collect() {
        const oldest = Math.min(...[...backlogs.values()].map((b) => b.oldestAt));
        this.set(Number.isFinite(oldest) ? Math.max(0, Date.now() - oldest) / 1000 : 0);
      },
    });
  }

  /** A drain found `events` unpublished events in the tenant's outbox, the oldest written at `oldestAt`. */
  backlog(tenant: TenantSlug, events: number, oldestAt: Date): void {
    if (events > 0) this.backlogs.set(tenant, { events, oldestAt: oldestAt.getTime() });
    else this.backlogs.delete(tenant);
  }

  /** The tenant's outbox is empty (or the tenant is gone). */
  drained(tenant: TenantSlug): void {
    this.backlogs.delete(tenant);
  }

  /** Only these tenants can still have a backlog (the others were deleted or suspended). */
  keepOnly(tenants: ReadonlySet<TenantSlug>): void {
    for (const tenant of this.backlogs.keys()) if (!tenants.has(tenant)) this.backlogs.delete(tenant);
  }

  publishedEvents(createdAt: readonly Date[]): void {
    const now = Date.now();
    this.published.inc(createdAt.length);
    for (const at of createdAt) this.delay.observe(Math.max(0, now - at.getTime()) / 1000);
  }

  drainFailed(): void {
    this.failures.inc();
  }
}
