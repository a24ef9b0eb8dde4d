import { describe, expect, it } from '@jest/globals';
import { parseTenantSlug, type TenantSlug } from '#polystore/tenancy';
import { IngestBuffer, type IngestBufferOptions, type ReadingRow } from '../src/ingest/ingest-buffer.js';
import { eventually } from '../../../test/support/eventually.js';

const A = parseTenantSlug('tenant-a');
const B = parseTenantSlug('tenant-b');

function rows(n: number, from = 0): ReadingRow[] {
  return Array.from({ length: n }, (_, i) => ({
    deviceId: '00000000-0000-4000-8000-000000000001',
    seq: from + i,
    ts: new Date(0),
    receivedAt: new Date(0),
    metrics: { v: i },
  }));
}

const OPTIONS: IngestBufferOptions = {
  capacity: 100,
  maxBatchRows: 10,
  maxDelayMs: 20,
  maxConcurrentWrites: 2,
  retryInitialMs: 5,
  retryMaxMs: 20,
};

/** A writer that records batches and can be held or made to fail. */
function recorder() {
  const batches: Array<{ tenant: TenantSlug; rows: number }> = [];
  let failNext = 0;
  let gate: Promise<void> | null = null;
  let open: (() => void) | null = null;
  return {
    batches,
    failTimes(n: number) {
      failNext = n;
    },
    hold() {
      gate = new Promise((resolve) => (open = resolve));
    },
    release() {
      open?.();
      gate = null;
    },
    async write(tenant: TenantSlug, written: readonly ReadingRow[]) {
      if (gate) await gate;
      if (failNext > 0) {
        failNext--;
        throw new Error('database down');
      }
      batches.push({ tenant, rows: written.length });
    },
  };
}

describe('edge-store - ingest buffer (batching, backpressure, ack after commit)', () => {
  it('a full batch is written at once; a partial one after maxDelayMs', async () => {
    const sink = recorder();
    const buffer = new IngestBuffer((t, r) => sink.write(t, r), OPTIONS);
    const done: string[] = [];
    buffer.offer(A, rows(10), () => done.push('full'), { retry: false });
    await eventually(() => done.includes('full'));
    expect(sink.batches).toEqual([{ tenant: A, rows: 10 }]);
    const started = Date.now();
    buffer.offer(A, rows(3, 10), () => done.push('partial'), { retry: false });
    await eventually(() => done.includes('partial'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
    expect(sink.batches[1]).toEqual({ tenant: A, rows: 3 });
  });

  it('many small submissions for one tenant become one statement', async () => {
    const sink = recorder();
    const buffer = new IngestBuffer((t, r) => sink.write(t, r), OPTIONS);
    let completed = 0;
    for (let i = 0; i < 5; i++) buffer.offer(A, rows(2, i * 2), () => completed++, { retry: false });
    await eventually(() => completed === 5);
    expect(sink.batches).toEqual([{ tenant: A, rows: 10 }]);
  });

  it('a submission completes only after its rows are committed', async () => {
    const sink = recorder();
    sink.hold();
    const buffer = new IngestBuffer((t, r) => sink.write(t, r), OPTIONS);
    let completed = false;
    buffer.offer(A, rows(10), () => (completed = true), { retry: false });
    await eventually(() => buffer.stats().queuedRows === 10);
    expect(completed).toBe(false);
    sink.release();
    await eventually(() => completed);
    expect(buffer.stats()).toMatchObject({ queuedRows: 0, committedRows: 10 });
  });

  it('when full, offers are refused at once and memory stays bounded', async () => {
    const sink = recorder();
    sink.hold();
    const buffer = new IngestBuffer((t, r) => sink.write(t, r), OPTIONS);
    let accepted = 0;
    for (let i = 0; i < 30; i++)
      if (buffer.offer(i % 2 ? A : B, rows(10, i * 10), () => undefined, { retry: false })) accepted++;
    expect(accepted).toBe(10);
    expect(buffer.stats().queuedRows).toBe(100);
    expect(buffer.stats().refusedOffers).toBe(20);
    expect(buffer.hasRoomFor(1)).toBe(false);
    sink.release();
    await eventually(() => buffer.stats().queuedRows === 0);
    expect(buffer.offer(A, rows(10), () => undefined, { retry: false })).toBe(true);
  });

  it('a failed batch fails HTTP submissions at once and retries MQTT ones until committed', async () => {
    const sink = recorder();
    sink.failTimes(3);
    const buffer = new IngestBuffer((t, r) => sink.write(t, r), OPTIONS);
    const outcomes: string[] = [];
    buffer.offer(A, rows(5), (e) => outcomes.push(e ? 'http failed' : 'http ok'), { retry: false });
    buffer.offer(A, rows(5, 5), (e) => outcomes.push(e ? 'mqtt failed' : 'mqtt ok'), { retry: true });
    await eventually(() => outcomes.includes('mqtt ok'));
    expect(outcomes).toEqual(['http failed', 'mqtt ok']);
    expect(buffer.stats()).toMatchObject({ failedBatches: 3, committedRows: 5, queuedRows: 0 });
  });

  it('writes for different tenants run side by side, never two at once for one tenant', async () => {
    let inFlight = 0;
    let peak = 0;
    const perTenant = new Map<string, number>();
    let overlapping = false;
    const buffer = new IngestBuffer(async (tenant) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      perTenant.set(tenant, (perTenant.get(tenant) ?? 0) + 1);
      if (perTenant.get(tenant)! > 1) overlapping = true;
      await new Promise((resolve) => setTimeout(resolve, 10));
      perTenant.set(tenant, perTenant.get(tenant)! - 1);
      inFlight--;
    }, OPTIONS);
    let completed = 0;
    for (let i = 0; i < 8; i++) buffer.offer(i % 2 ? A : B, rows(10, i * 10), () => completed++, { retry: false });
    await eventually(() => completed === 8);
    expect(peak).toBe(2);
    expect(overlapping).toBe(false);
  });

  it('close() refuses new rows and resolves once everything queued is written', async () => {
    const sink = recorder();
    const buffer = new IngestBuffer((t, r) => sink.write(t, r), OPTIONS);
    let completed = 0;
    buffer.offer(A, rows(3), () => completed++, { retry: true });
    buffer.offer(B, rows(4), () => completed++, { retry: true });
    await buffer.close();
    expect(completed).toBe(2);
    expect(buffer.offer(A, rows(1), () => undefined, { retry: false })).toBe(false);
  });
});
