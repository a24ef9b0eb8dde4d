/**
 * A counting semaphore with a bounded FIFO queue and bounded waits: at most `limit` holders,
 * at most `maxWaiters` queued, each waiting at most the time it is given. Used for the slots of
 * a shared pool and for the per-tenant cap inside it, so nothing ever queues inside a driver.
 */
export class Gate {
  private active = 0;
  private readonly queue: Array<{ grant(): void; fail(error: Error): void; timer: NodeJS.Timeout }> = [];

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
  enter(waitMs: number, onBusy: (reason: 'queue full' | 'wait timed out') => Error): Promise<void> {
    if (this.active < this.limit && this.queue.length === 0) {
      this.active++;
      return Promise.resolve();
    }
    if (this.queue.length >= this.maxWaiters || waitMs <= 0)
      return Promise.reject(onBusy(this.queue.length >= this.maxWaiters ? 'queue full' : 'wait timed out'));
    return new Promise<void>((resolve, reject) => {
      const waiter = {
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

  /** Gives the place back: to the oldest waiter if any (the count stays), else to the gate. */
  leave(): void {
    const next = this.queue.shift();
    if (next) next.grant();
    else this.active--;
  }

  /** Rejects every waiter (shutdown). */
  rejectAll(error: () => Error): void {
    for (const waiter of this.queue.splice(0)) waiter.fail(error());
  }
}
