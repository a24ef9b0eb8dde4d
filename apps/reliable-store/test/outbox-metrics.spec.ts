import { describe, expect, it } from '@jest/globals';
import { parseTenantSlug } from '#polystore/tenancy';
import { Registry } from 'prom-client';
import { OutboxMetrics } from '../src/outbox/outbox.metrics.js';

const value = async (registry: Registry, name: string) =>
  (await registry.getSingleMetric(name)!.get()).values.reduce((sum, v) => sum + v.value, 0);

describe('outbox metrics - backlog and age from the drains, no tenant label', () => {
  const a = parseTenantSlug('tenant-a');
  const b = parseTenantSlug('tenant-b');

  it('outbox metrics - a stuck tenant keeps the backlog and its age grows; a drained or removed tenant leaves it', async () => {
    const registry = new Registry();
    const metrics = new OutboxMetrics(registry);
    expect(await value(registry, 'polystore_outbox_oldest_event_age_seconds')).toBe(0);

    metrics.backlog(a, 250, new Date(Date.now() - 120_000));
    metrics.backlog(b, 3, new Date(Date.now() - 5_000));
    expect(await value(registry, 'polystore_outbox_backlog_events')).toBe(253);
    expect(await value(registry, 'polystore_outbox_backlog_tenants')).toBe(2);
    const age = await value(registry, 'polystore_outbox_oldest_event_age_seconds');
    expect(age).toBeGreaterThanOrEqual(120);
    expect(age).toBeLessThan(130);

    metrics.drained(a);
    expect(await value(registry, 'polystore_outbox_backlog_events')).toBe(3);
    expect(await value(registry, 'polystore_outbox_oldest_event_age_seconds')).toBeLessThan(10);
    metrics.keepOnly(new Set([a])); // b was deleted or suspended
    expect(await value(registry, 'polystore_outbox_backlog_events')).toBe(0);
    expect(await value(registry, 'polystore_outbox_oldest_event_age_seconds')).toBe(0);

    metrics.publishedEvents([new Date(Date.now() - 2_000), new Date()]);
    metrics.drainFailed();
    expect(await value(registry, 'polystore_outbox_events_published_total')).toBe(2);
    expect(await value(registry, 'polystore_outbox_drain_failures_total')).toBe(1);
    const text = await registry.metrics();
    expect(text).toMatch(/polystore_outbox_publish_delay_seconds_count 2/);
    expect(text).not.toMatch(/[{,]tenant=/);
  });
});
