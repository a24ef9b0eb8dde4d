interface Slot<V> {
  value: Promise<V>;
  expiresAt: number;
}

/**
 * A small read-through cache: entries expire after a TTL chosen per value (so misses can be
 * cached briefly), concurrent loads of one key share one promise, failed loads are not kept,
 * and the size is bounded (oldest entries dropped first).
 */
export class TtlCache<K, V> {
  private readonly slots = new Map<K, Slot<V>>();

  constructor(
    private readonly ttlFor: (value: V) => number,
    private readonly maxEntries = 10_000,
  ) {}

  get(key: K, load: () => Promise<V>): Promise<V> {
    const now = Date.now();
    const hit = this.slots.get(key);
    if (hit && hit.expiresAt > now) return hit.value;
    const slot: Slot<V> = { value: load(), expiresAt: Number.POSITIVE_INFINITY };
    this.slots.set(key, slot);
    if (this.slots.size > this.maxEntries) this.slots.delete(this.slots.keys().next().value as K);
    slot.value.then(
      (value) => {
        slot.expiresAt = Date.now() + this.ttlFor(value);
      },
      () => {
        if (this.slots.get(key) === slot) this.slots.delete(key);
      },
    );
    return slot.value;
  }

  delete(key: K): void {
    this.slots.delete(key);
  }

  deleteWhere(predicate: (key: K) => boolean): void {
    for (const key of this.slots.keys()) if (predicate(key)) this.slots.delete(key);
  }

  clear(): void {
    this.slots.clear();
  }
}
