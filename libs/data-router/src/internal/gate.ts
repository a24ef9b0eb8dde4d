/**
 * A counting semaphore with a bounded FIFO queue and bounded waits: at most `limit` holders,
 * at most `maxWaiters` queued, each waiting at most the time it is given. Used for the slots of
 * a shared pool and for the per-tenant cap inside it, so nothing ever queues inside a driver.
 */
export class Gate {
  private active = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    private limit: number,
    private readonly maxWaiters: number,
  ) {}

  /** How many may hold a place at once (it only grows: {@link raise}). */
  get capacity(): number {
    return this.limit;
  }

  /** One more place: given at once to the oldest waiter, if any. */
  raise(): void {
    this.limit++;
    if (this.active < this.limit) {
      const next = this.queue.shift();
      if (next) {
        this.active++;
        next.grant();
      }
    }
  }

  get holders(): number {
    return this.active;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Takes a place, waiting at most `waitMs`; rejects with `onBusy('queue full' | 'wait timed out')`.
   * Every successful `enter()` must be followed by exactly one `leave()`.
   */
  enter(waitMs: number, onBusy: (reason: 'queue full' | 'wait timed out') => Error, affinity?: number): Promise<void> {
    if (this.active < this.limit && this.queue.length === 0) {
      this.active++;
      return Promise.resolve();
    }
    if (this.queue.length >= this.maxWaiters || waitMs <= 0)
      return Promise.reject(onBusy(this.queue.length >= this.maxWaiters ? 'queue full' : 'wait timed out'));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        affinity,
        passedOver: 0,
        grant: () => {
          clearTimeout(waiter.timer);
          resolve();
        },
        fail: (error: Error) => {
          clearTimeout(waiter.timer);
          reject(error);
        },
        timer: setTimeout(() => {
          const index = this.queue.indexOf(waiter);
          if (index >= 0) this.queue.splice(index, 1);
          reject(onBusy('wait timed out'));
        }, waitMs),
      };
      this.queue.push(waiter);
    });
  }

  /**
   * Gives the place back: to the oldest waiter if any (the count stays), else to the gate. With
   * `affinity` (what the place was used for: a shared pool's lane), a waiter of the same affinity
   * among the oldest {@link AFFINITY_WINDOW} goes first, unless the oldest waiter was already
   * passed over {@link MAX_PASSED_OVER} times: the order bends, and no waiter waits for ever.
   */
  leave(affinity?: number): void {
    const next = this.takeNext(affinity);
    if (next) next.grant();
    else this.active--;
  }

  private takeNext(affinity: number | undefined): Waiter | undefined {
    const oldest = this.queue[0];
    if (!oldest || affinity === undefined || oldest.affinity === affinity || oldest.passedOver >= MAX_PASSED_OVER)
      return this.queue.shift();
    const window = Math.min(this.queue.length, AFFINITY_WINDOW);
    for (let i = 1; i < window; i++) {
      if (this.queue[i]!.affinity !== affinity) continue;
      for (let j = 0; j < i; j++) this.queue[j]!.passedOver++;
      return this.queue.splice(i, 1)[0];
    }
    return this.queue.shift();
  }

  /** Rejects every waiter (shutdown). */
  rejectAll(error: () => Error): void {
    for (const waiter of this.queue.splice(0)) waiter.fail(error());
  }
}

interface Waiter {
  readonly affinity: number | undefined;
  /** Times a younger waiter was let through first (see {@link Gate.leave}). */
  passedOver: number;
  grant(): void;
  fail(error: Error): void;
  timer: NodeJS.Timeout;
}

/** Waiters looked at, from the oldest, for one of the same affinity as the place given back. */
const AFFINITY_WINDOW = 32;
/** Times the oldest waiter may be passed over for affinity before it goes first regardless. */
const MAX_PASSED_OVER = 8;
