import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { TtlCache, type TtlCacheOptions } from '../src/internal/ttl-cache.js';

/** A loader that counts its calls and answers what the test says (or fails). */
function source<V>() {
  let answer: () => Promise<V> = () => Promise.reject(new Error('not set'));
  const loader = {
    calls: 0,
    answers(value: V) {
      answer = () => Promise.resolve(value);
    },
    fails(message = 'catalog down') {
      answer = () => Promise.reject(new Error(message));
    },
    load: () => {
      loader.calls += 1;
      return answer();
    },
  };
  return loader;
}

const TTL = 1_000;
const MISS_TTL = 100;
const STALE = 10_000;
const RETRY = 500;

function cache(overrides: Partial<TtlCacheOptions<string, string | null>> = {}) {
  return new TtlCache<string, string | null>({
    ttlFor: (v) => (v === null ? MISS_TTL : TTL),
    staleFor: (v) => (v === null ? 0 : STALE),
    isMiss: (v) => v === null,
    retryAfterFailureMs: RETRY,
    ...overrides,
  });
}

describe('catalog - TtlCache (LRU, per-value TTL, stale while the source is down)', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000, doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
  });
  afterEach(() => {
    jest.useRealTimers();
  });
  const advance = (ms: number) => jest.setSystemTime(Date.now() + ms);

  it('ttl-cache - 50 concurrent gets of one key share one load', async () => {
    const c = cache();
    const s = source<string | null>();
    s.answers('v');
    const values = await Promise.all(Array.from({ length: 50 }, () => c.get('k', s.load)));
    expect(values.every((v) => v === 'v')).toBe(true);
    expect(s.calls).toBe(1);
  });

  it('ttl-cache - a value is served for its TTL, a miss for its shorter one, then both are loaded again', async () => {
    const c = cache();
    const known = source<string | null>();
    const unknown = source<string | null>();
    known.answers('v');
    unknown.answers(null);
    await c.get('known', known.load);
    await c.get('unknown', unknown.load);
    advance(MISS_TTL - 1);
    await c.get('known', known.load);
    await c.get('unknown', unknown.load);
    expect([known.calls, unknown.calls]).toEqual([1, 1]);
    advance(1);
    await c.get('unknown', unknown.load);
    expect(unknown.calls).toBe(2);
    advance(TTL);
    known.answers('v2');
    await expect(c.get('known', known.load)).resolves.toBe('v2');
    expect(known.calls).toBe(2);
  });

  it('ttl-cache - a failed load is not kept: the caller gets the error, the next get loads again', async () => {
    const c = cache();
    const s = source<string | null>();
    s.fails();
    await expect(c.get('k', s.load)).rejects.toThrow('catalog down');
    s.answers('v');
    await expect(c.get('k', s.load)).resolves.toBe('v');
    expect(s.calls).toBe(2);
  });

  it('ttl-cache - evicts the least recently used value, not the first one in', async () => {
    const c = cache({ maxEntries: 2 });
    const s = source<string | null>();
    s.answers('v');
    await c.get('a', s.load);
    await c.get('b', s.load);
    await c.get('a', s.load); // a is now the most recently used
    await c.get('c', s.load); // evicts b
    expect(s.calls).toBe(3);
    await c.get('a', s.load);
    expect(s.calls).toBe(3);
    await c.get('b', s.load);
    expect(s.calls).toBe(4);
  });

  it('ttl-cache - 1,000 distinct misses never evict a known value (misses are kept apart)', async () => {
    const c = cache({ maxEntries: 10, maxMisses: 10 });
    const known = source<string | null>();
    const unknown = source<string | null>();
    known.answers('v');
    unknown.answers(null);
    await c.get('known', known.load);
    for (let i = 0; i < 1_000; i += 1) await c.get(`random-${i}`, unknown.load);
    await c.get('known', known.load);
    expect(known.calls).toBe(1);
    expect(c.size).toBe(11);
  });

  it('ttl-cache - a known value past its TTL is served while its reload fails, retried every interval, up to the stale window', async () => {
    const stale: string[] = [];
    const c = cache({ onStale: (key) => stale.push(key) });
    const s = source<string | null>();
    s.answers('v');
    await c.get('k', s.load);
    advance(TTL);
    s.fails();
    // 20 callers while the source is down: one attempt, every caller gets the old value.
    const values = await Promise.all(Array.from({ length: 20 }, () => c.get('k', s.load)));
    expect(values.every((v) => v === 'v')).toBe(true);
    expect(s.calls).toBe(2);
    expect(stale).toEqual(['k']);
    // Within the retry interval nothing asks the source again.
    advance(RETRY - 1);
    await expect(c.get('k', s.load)).resolves.toBe('v');
    expect(s.calls).toBe(2);
    advance(1);
    await expect(c.get('k', s.load)).resolves.toBe('v');
    expect(s.calls).toBe(3);
    // Past the stale window the error reaches the caller.
    advance(STALE);
    await expect(c.get('k', s.load)).rejects.toThrow('catalog down');
  });

  it('ttl-cache - once the source is back, the reloaded value replaces the stale one', async () => {
    const c = cache();
    const s = source<string | null>();
    s.answers('v1');
    await c.get('k', s.load);
    advance(TTL);
    s.fails();
    await expect(c.get('k', s.load)).resolves.toBe('v1');
    advance(RETRY);
    s.answers('v2');
    await expect(c.get('k', s.load)).resolves.toBe('v2');
  });

  it('ttl-cache - a miss is never served stale', async () => {
    const c = cache();
    const s = source<string | null>();
    s.answers(null);
    await c.get('k', s.load);
    advance(MISS_TTL);
    s.fails();
    await expect(c.get('k', s.load)).rejects.toThrow('catalog down');
  });

  it('ttl-cache - delete drops a value at once, even one that would be served stale (a revoked key)', async () => {
    const c = cache();
    const s = source<string | null>();
    s.answers('v');
    await c.get('k', s.load);
    advance(TTL);
    c.delete('k');
    s.fails();
    await expect(c.get('k', s.load)).rejects.toThrow('catalog down');
  });

  it('ttl-cache - a load in flight when its key is deleted or cleared is not kept', async () => {
    const c = cache();
    const s = source<string | null>();
    s.answers('old');
    const inFlight = c.get('k', s.load);
    c.delete('k');
    await expect(inFlight).resolves.toBe('old');
    const cleared = c.get('j', s.load);
    c.clear();
    await cleared;
    s.answers('new');
    await expect(c.get('k', s.load)).resolves.toBe('new');
    await expect(c.get('j', s.load)).resolves.toBe('new');
    expect(s.calls).toBe(4);
  });

  it('ttl-cache - deleteWhere drops the matching values and misses only; clear drops everything', async () => {
    const c = cache();
    const s = source<string | null>();
    s.answers('v');
    await c.get('acme/secure', s.load);
    await c.get('acme/edge', s.load);
    await c.get('other/secure', s.load);
    s.answers(null);
    await c.get('acme/missing', s.load);
    c.deleteWhere((key) => key.startsWith('acme/'));
    expect(c.size).toBe(1);
    c.clear();
    expect(c.size).toBe(0);
  });

  it('ttl-cache - onLoad counts the loads the source really sees', async () => {
    let loads = 0;
    const c = cache({ onLoad: () => (loads += 1) });
    const s = source<string | null>();
    s.answers(null);
    await Promise.all([c.get('x', s.load), c.get('x', s.load), c.get('y', s.load)]);
    await c.get('x', s.load);
    expect(loads).toBe(2);
    expect(s.calls).toBe(2);
  });
});
