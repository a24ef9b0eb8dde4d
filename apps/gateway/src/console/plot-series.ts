/** A fixed-size ring: the newest `capacity` items, oldest first; memory never grows past it. */
export class Ring<T> {
  private readonly items: (T | undefined)[];
  /** Where the next item goes. */
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error('a ring holds at least one item');
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Adds `item`, dropping the oldest when full. */
  push(item: T): void {
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  /** The items, oldest first. */
  toArray(): T[] {
    const start = (this.next - this.count + this.capacity) % this.capacity;
    return Array.from({ length: this.count }, (_, i) => this.items[(start + i) % this.capacity] as T);
  }
}

/**
 * The per-second rate of a counter between two readings `seconds` apart; null when either is
 * missing or no time passed. A counter that went down was reset (its process restarted): it
 * counted `current` since, so that is the delta, as Prometheus's `rate()` takes it.
 */
export function counterRate(
  previous: number | null | undefined,
  current: number | null | undefined,
  seconds: number,
): number | null {
  if (previous === null || previous === undefined || current === null || current === undefined) return null;
  if (!(seconds > 0)) return null;
  const delta = current >= previous ? current - previous : current;
  return delta / seconds;
}

/** One point of a plotted series: when (ms since the epoch) and the value (null: unknown, a gap). */
export interface PlotPoint {
  readonly at: number;
  readonly value: number | null;
}

/**
 * The rates of a counter sampled at `samples` (oldest first): one point per sample after the
 * first, at that sample's time. A sample whose reading comes from another `source` (another
 * replica of a store answered) than the one before is a gap: two processes' counters do not
 * subtract.
 */
export function ratesOf<S>(
  samples: readonly S[],
  at: (sample: S) => number,
  read: (sample: S) => { readonly value: number; readonly source?: string } | null,
): PlotPoint[] {
  const points: PlotPoint[] = [];
  for (let i = 1; i < samples.length; i++) {
    const before = read(samples[i - 1]!);
    const now = read(samples[i]!);
    const sameSource = before && now && before.source === now.source;
    points.push({
      at: at(samples[i]!),
      value: sameSource ? counterRate(before.value, now.value, (at(samples[i]!) - at(samples[i - 1]!)) / 1000) : null,
    });
  }
  return points;
}
