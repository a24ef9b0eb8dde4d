import { describe, expect, it } from '@jest/globals';
import { QUOTA_EXCEEDED, quotaExceeded } from '#polystore/platform';
import { AdmissionGate } from '../src/quotas/admission-gate.js';
import { effectiveQuotas, isStale, quotaReached } from '../src/quotas/quota-limits.util.js';

/** A store whose count is set by the test, and whose count calls can be held. */
class FakeStore {
  rows = 0;
  private held: Array<() => void> = [];
  holdCounts = false;

  count = async (): Promise<number> => {
    const seen = this.rows;
    if (this.holdCounts) await new Promise<void>((resolve) => this.held.push(resolve));
    return seen;
  };

  releaseCounts(): void {
    const held = this.held;
    this.held = [];
    for (const resolve of held) resolve();
  }
}

const later = (ms = 5_000) => Date.now() + ms;

describe('quotas - limits', () => {
  it("quotas - a tenant's own limit wins over the default, null falls back to it, 0 is unlimited", () => {
    const limits = effectiveQuotas(
      { devices: 10, customers: 20, storage: 0 },
      { devices: 0, customers: null, storageBytes: 5 },
    );
    expect(limits).toEqual({
      devices: { limit: 0, source: 'tenant' },
      customers: { limit: 20, source: 'default' },
      storage: { limit: 5, source: 'tenant' },
    });
    expect(quotaReached(0, 1_000_000)).toBe(false);
    expect(quotaReached(3, 2)).toBe(false);
    expect(quotaReached(3, 3)).toBe(true);
    expect(isStale(new Date(1_000), 500, 1_499)).toBe(false);
    expect(isStale(new Date(1_000), 500, 1_500)).toBe(true);
  });

  it('quotas - QUOTA_EXCEEDED names the quota, its limit and its usage, and asks for no Retry-After', () => {
    const error = quotaExceeded('storage', 1_000, 1_024);
    expect(error.code).toBe(QUOTA_EXCEEDED);
    expect(error.kind).toBe('RESOURCE_EXHAUSTED');
    expect(error.message).toContain('storage quota');
    expect(error.message).toContain('1024 bytes used of 1000 bytes');
    expect(error.details).toEqual({ quota: { name: 'storage', limit: 1_000, used: 1_024 }, retryAfterSeconds: null });
  });
});

describe('quotas - admission gate', () => {
  it('admission gate - admits below the limit and refuses at it when nothing is in flight', async () => {
    const gate = new AdmissionGate();
    const store = new FakeStore();
    store.rows = 1;
    const first = await gate.admit('t', 2, store.count, later());
    expect(first.admitted).toBe(true);
    store.rows = 2;
    if (first.admitted) first.release();
    await expect(gate.admit('t', 2, store.count, later())).resolves.toEqual({ admitted: false, used: 2, inFlight: 0 });
    expect(gate.size).toBe(0);
  });

  it('admission gate - concurrent admissions at the edge: one passes, the other waits for it and is refused once its row is counted', async () => {
    const gate = new AdmissionGate();
    const store = new FakeStore();
    store.rows = 1;
    const a = gate.admit('t', 2, store.count, later());
    const b = gate.admit('t', 2, store.count, later());
    // Both counted 1 row of 2; the first decision admits, the second waits for it to settle.
    const first = await Promise.race([a, b]);
    expect(first.admitted).toBe(true);
    store.rows = 2;
    if (first.admitted) first.release();
    const outcomes = await Promise.all([a, b]);
    expect(outcomes.filter((x) => !x.admitted)).toEqual([{ admitted: false, used: 2, inFlight: 0 }]);
  });

  it('admission gate - a waiter is admitted when the in-flight work it waited for was undone', async () => {
    const gate = new AdmissionGate();
    const store = new FakeStore();
    const first = await gate.admit('t', 1, store.count, later());
    const second = gate.admit('t', 1, store.count, later());
    if (first.admitted) first.release(); // its saga compensated: no row
    await expect(second).resolves.toMatchObject({ admitted: true });
  });

  it('admission gate - a count taken while in-flight work settled is taken again (its row may be missing from it)', async () => {
    const gate = new AdmissionGate();
    const store = new FakeStore();
    const first = await gate.admit('t', 1, store.count, later());
    store.holdCounts = true;
    const second = gate.admit('t', 1, store.count, later());
    await new Promise((resolve) => setImmediate(resolve));
    // The first registration's row is written and its admission released while the second counts 0 rows.
    store.rows = 1;
    if (first.admitted) first.release();
    store.holdCounts = false;
    store.releaseCounts();
    await expect(second).resolves.toEqual({ admitted: false, used: 1, inFlight: 0 });
  });

  it('admission gate - a waiter gives up at its deadline, naming what is in flight; keys do not share places', async () => {
    const gate = new AdmissionGate();
    const store = new FakeStore();
    const first = await gate.admit('t', 1, store.count, later());
    await expect(gate.admit('t', 1, store.count, Date.now() + 20)).resolves.toEqual({
      admitted: false,
      used: 0,
      inFlight: 1,
    });
    await expect(gate.admit('other', 1, store.count, later())).resolves.toMatchObject({ admitted: true });
    if (first.admitted) {
      first.release();
      first.release(); // twice is once
    }
  });

  it('admission gate - a failed count is thrown and leaves nothing behind', async () => {
    const gate = new AdmissionGate();
    await expect(gate.admit('t', 1, () => Promise.reject(new Error('store down')), later())).rejects.toThrow(
      'store down',
    );
    expect(gate.size).toBe(0);
  });
});
