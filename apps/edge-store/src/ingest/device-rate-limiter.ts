/**
 * A token bucket per device: `ratePerSecond` readings sustained, bursts of `burstSeconds` worth.
 * At most `maxDevices` buckets are kept (the least recently seen are forgotten, which only ever
 * lets a device send more, never less). `ratePerSecond` 0 turns it off.
 */
export class DeviceRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly capacity: number;

  constructor(
    private readonly ratePerSecond: number,
    burstSeconds = 10,
    private readonly maxDevices = 100_000,
  ) {
    this.capacity = ratePerSecond * burstSeconds;
  }

  /** Takes `count` tokens of `deviceId`'s bucket; false (taking none) when there are not enough. */
  take(deviceId: string, count: number, now = performance.now()): boolean {
    if (this.ratePerSecond === 0) return true;
    let bucket = this.buckets.get(deviceId);
    if (bucket) {
      this.buckets.delete(deviceId); // re-inserted below: the map's order is recency
      bucket.tokens = Math.min(this.capacity, bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond);
      bucket.at = now;
    } else {
      bucket = { tokens: this.capacity, at: now };
      if (this.buckets.size >= this.maxDevices) this.buckets.delete(this.buckets.keys().next().value as string);
    }
    this.buckets.set(deviceId, bucket);
    if (bucket.tokens < count) return false;
    bucket.tokens -= count;
    return true;
  }
}
