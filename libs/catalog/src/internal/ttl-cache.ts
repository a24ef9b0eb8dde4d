import { LRUCache } from 'lru-cache';

/** Settings of a {@link TtlCache}. */
export interface TtlCacheOptions<K, V> {
  /** How long a loaded value is served without loading it again (chosen per value). */
  readonly ttlFor: (value: V) => number;
  /**
   * How long past its TTL a value is still served when reloading it fails (the source briefly
   * down); 0 (the default) never serves an expired value.
   */
  readonly staleFor?: (value: V) => number;
  /**
   * Values kept in an LRU of their own ("not found"), so that many distinct misses (random keys)
   * never evict the values that are used.
   */
  readonly isMiss?: (value: V) => boolean;
  /** Most values kept (least recently used dropped first). */
  readonly maxEntries?: number;
  /** Most misses kept, apart from {@link maxEntries}. */
  readonly maxMisses?: number;
  /** After a failed reload, how long the stale value is served before a reload is tried again. */
  readonly retryAfterFailureMs?: number;
  /** Called for every load started: what the source is really asked (e.g. to count queries). */
  readonly onLoad?: () => void;
  /** Called when a stale value is served because its reload failed. */
  readonly onStale?: (key: K, error: unknown) => void;
}

interface Entry<V> {
  readonly value: V;
  /** The value as the promise callers get (one allocation per load, not per hit). */
  readonly settled: Promise<V>;
  /** Served without a reload until then. */
  freshUntil: number;
  /** Served while reloads fail until then. */
  readonly staleUntil: number;
}

/**
 * A read-through cache: entries expire after a TTL chosen per value (so misses can be cached
 * briefly), concurrent loads of one key share one promise, failed loads are not kept, and the
 * size is bounded least-recently-used first, misses apart from the rest.
 *
 * A value past its TTL is reloaded; when that reload fails and the value is within its stale
 * window ({@link TtlCacheOptions.staleFor}), the old value is served instead of the error, and
 * again for `retryAfterFailureMs` before the next attempt (so an outage costs the source one
 * attempt per key per interval, and callers do not each wait on a failing source). `delete`, `deleteWhere` and `clear`
 * drop a value at once, stale or not, and a load in flight for it is not kept.
 */
export class TtlCache<K extends NonNullable<unknown>, V> {
  private readonly values: LRUCache<K, Entry<V>>;
  private readonly misses: LRUCache<K, Entry<V>>;
  private readonly loading = new Map<K, Promise<V>>();
  private readonly retryAfterFailureMs: number;

  constructor(private readonly options: TtlCacheOptions<K, V>) {
    this.values = new LRUCache({ max: options.maxEntries ?? 10_000 });
    this.misses = new LRUCache({ max: options.maxMisses ?? options.maxEntries ?? 10_000 });
    this.retryAfterFailureMs = options.retryAfterFailureMs ?? 1_000;
  }

  get(key: K, load: () => Promise<V>): Promise<V> {
    const inFlight = this.loading.get(key);
    if (inFlight) return inFlight;
    const entry = this.values.get(key) ?? this.misses.get(key);
    const now = Date.now();
    if (entry && now < entry.freshUntil) return entry.settled;
    return this.load(key, load, entry && now < entry.staleUntil ? entry : undefined);
  }

  delete(key: K): void {
    this.loading.delete(key);
    this.values.delete(key);
    this.misses.delete(key);
  }

  deleteWhere(predicate: (key: K) => boolean): void {
    for (const key of [...this.loading.keys(), ...this.values.keys(), ...this.misses.keys()])
      if (predicate(key)) this.delete(key);
  }

  clear(): void {
    this.loading.clear();
    this.values.clear();
    this.misses.clear();
  }

  /** Number of values and misses kept (loads in flight excluded). */
  get size(): number {
    return this.values.size + this.misses.size;
  }

  private load(key: K, load: () => Promise<V>, stale: Entry<V> | undefined): Promise<V> {
    this.options.onLoad?.();
    const promise: Promise<V> = load().then(
      (value) => {
        // Deleted (or cleared) while loading: the caller gets the value, the cache keeps nothing.
        if (this.loading.get(key) === promise) {
          this.loading.delete(key);
          this.keep(key, value);
        }
        return value;
      },
      (error: unknown) => {
        if (this.loading.get(key) !== promise) throw error;
        this.loading.delete(key);
        if (!stale) throw error;
        stale.freshUntil = Math.min(Date.now() + this.retryAfterFailureMs, stale.staleUntil);
        this.options.onStale?.(key, error);
        return stale.value;
      },
    );
    this.loading.set(key, promise);
    return promise;
  }

  private keep(key: K, value: V): void {
    const now = Date.now();
    const freshUntil = now + this.options.ttlFor(value);
    const entry: Entry<V> = {
      value,
      settled: Promise.resolve(value),
      freshUntil,
      staleUntil: freshUntil + (this.options.staleFor?.(value) ?? 0),
    };
    const miss = this.options.isMiss?.(value) ?? false;
    (miss ? this.values : this.misses).delete(key);
    (miss ? this.misses : this.values).set(key, entry);
  }
}
