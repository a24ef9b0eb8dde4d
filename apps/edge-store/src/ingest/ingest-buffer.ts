import type { TenantSlug } from '#polystore/tenancy';

/** One reading, ready to be written. */
export interface ReadingRow {
  readonly deviceId: string;
  readonly seq: number;
  readonly ts: Date;
  readonly receivedAt: Date;
  readonly metrics: Record<string, number>;
}

/** Where batches go: one call per batch, one statement per tenant database. */
export type BatchWriter = (tenant: TenantSlug, rows: readonly ReadingRow[]) => Promise<void>;

/** Called once per submission: without an error when its rows are committed. */
export type Completion = (error?: Error) => void;

export interface IngestBufferOptions {
  /** Rows accepted but not yet committed, across tenants; beyond it, `offer` refuses. */
  readonly capacity: number;
  /** A tenant's batch is written once it holds this many rows... */
  readonly maxBatchRows: number;
  /** ...or once its oldest row has waited this long. */
  readonly maxDelayMs: number;
  /** Batches written at the same time (each to a different tenant). */
  readonly maxConcurrentWrites: number;
  /** Backoff of a failed batch whose submissions asked to be retried (MQTT). */
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
}

interface Submission {
  readonly rows: readonly ReadingRow[];
  readonly done: Completion;
  /** Retried until committed (MQTT: there is no way to give a message back) or failed at once (HTTP). */
  readonly retry: boolean;
}

interface TenantQueue {
  readonly submissions: Submission[];
  rows: number;
  timer?: NodeJS.Timeout;
  writing: boolean;
  failures: number;
  ready: boolean;
}

/** Counters of the buffer since start. */
export interface IngestBufferStats {
  readonly queuedRows: number;
  readonly capacity: number;
  readonly batches: number;
  readonly committedRows: number;
  readonly failedBatches: number;
  readonly refusedOffers: number;
}

/**
 * Groups readings into one write per tenant database (up to `maxBatchRows` rows or
 * `maxDelayMs`), with a bounded number of rows in memory.
 *
 * `offer()` is the backpressure point: when the rows would not fit, it refuses at once (HTTP
 * answers 429; the MQTT consumer stops acknowledging, so the broker stops sending), so memory
 * never grows past `capacity` rows. A submission completes only after its rows are committed:
 * that is when a device gets its 202 or its PUBACK. A batch that fails is retried with
 * backoff for retrying submissions and failed at once for the others.
 */
export class IngestBuffer {
  private readonly tenants = new Map<TenantSlug, TenantQueue>();
  private readonly waiting: TenantSlug[] = [];
  private activeWrites = 0;
  private queued = 0;
  private closed = false;
  private readonly idle = new Set<() => void>();
  private readonly settledListeners: Array<() => void> = [];
  private counters = { batches: 0, committedRows: 0, failedBatches: 0, refusedOffers: 0 };

  constructor(
    private readonly write: BatchWriter,
    private readonly options: IngestBufferOptions,
  ) {}

  /**
   * Queues `rows` for `tenant`; `done` is called once they are committed (or failed). Returns
   * false, without queueing anything, when the buffer is full or closing.
   */
  offer(tenant: TenantSlug, rows: readonly ReadingRow[], done: Completion, options: { retry: boolean }): boolean {
    if (this.closed || rows.length === 0 || this.queued + rows.length > this.options.capacity) {
      this.counters.refusedOffers++;
      return false;
    }
    this.queued += rows.length;
    const queue = this.queueOf(tenant);
    queue.submissions.push({ rows, done, retry: options.retry });
    queue.rows += rows.length;
    this.schedule(tenant, queue);
    return true;
  }

  /** Calls `listener` after every batch settles (room may have been freed). */
  onSettled(listener: () => void): void {
    this.settledListeners.push(listener);
  }

  /** Whether `rows` more rows would be accepted now. */
  hasRoomFor(rows: number): boolean {
    return !this.closed && this.queued + rows <= this.options.capacity;
  }

  stats(): IngestBufferStats {
    return { queuedRows: this.queued, capacity: this.options.capacity, ...this.counters };
  }

  /** Refuses new rows, then resolves once every queued row is committed or failed. */
  async close(): Promise<void> {
    this.closed = true;
    for (const [tenant, queue] of this.tenants) {
      clearTimeout(queue.timer);
      if (queue.rows > 0) this.markReady(tenant, queue);
    }
    if (this.queued === 0) return;
    await new Promise<void>((resolve) => this.idle.add(resolve));
  }

  private queueOf(tenant: TenantSlug): TenantQueue {
    let queue = this.tenants.get(tenant);
    if (!queue) {
      queue = { submissions: [], rows: 0, writing: false, failures: 0, ready: false };
      this.tenants.set(tenant, queue);
    }
    return queue;
  }

  private schedule(tenant: TenantSlug, queue: TenantQueue): void {
    if (queue.writing || queue.ready) return;
    if (queue.rows >= this.options.maxBatchRows || this.closed) {
      clearTimeout(queue.timer);
      queue.timer = undefined;
      this.markReady(tenant, queue);
    } else if (!queue.timer) {
      queue.timer = setTimeout(() => {
        queue.timer = undefined;
        this.markReady(tenant, queue);
      }, this.options.maxDelayMs);
    }
  }

  private markReady(tenant: TenantSlug, queue: TenantQueue): void {
    if (queue.ready || queue.writing) return;
    queue.ready = true;
    this.waiting.push(tenant);
    this.pump();
  }

  /** Starts writes while there is a free slot and a ready tenant. */
  private pump(): void {
    while (this.activeWrites < this.options.maxConcurrentWrites && this.waiting.length > 0) {
      const tenant = this.waiting.shift()!;
      const queue = this.tenants.get(tenant);
      if (!queue) continue;
      queue.ready = false;
      void this.writeBatch(tenant, queue);
    }
  }

  private async writeBatch(tenant: TenantSlug, queue: TenantQueue): Promise<void> {
    const batch: Submission[] = [];
    let rows = 0;
    while (
      queue.submissions.length > 0 &&
      (rows === 0 || rows + queue.submissions[0]!.rows.length <= this.options.maxBatchRows)
    ) {
      const submission = queue.submissions.shift()!;
      batch.push(submission);
      rows += submission.rows.length;
    }
    queue.rows -= rows;
    if (batch.length === 0) return;
    queue.writing = true;
    this.activeWrites++;
    try {
      await this.write(
        tenant,
        batch.flatMap((s) => s.rows),
      );
      this.counters.batches++;
      this.counters.committedRows += rows;
      queue.failures = 0;
      this.settle(batch, rows);
    } catch (error) {
      this.counters.failedBatches++;
      queue.failures++;
      const retrying = batch.filter((s) => s.retry && !this.closed);
      const failing = batch.filter((s) => !s.retry || this.closed);
      this.settle(
        failing,
        failing.reduce((n, s) => n + s.rows.length, 0),
        error as Error,
      );
      if (retrying.length > 0) {
        queue.submissions.unshift(...retrying);
        queue.rows += retrying.reduce((n, s) => n + s.rows.length, 0);
        const delay = Math.min(
          this.options.retryMaxMs,
          this.options.retryInitialMs * 2 ** Math.min(queue.failures - 1, 16),
        );
        queue.timer = setTimeout(() => {
          queue.timer = undefined;
          this.markReady(tenant, queue);
        }, delay);
      }
    } finally {
      queue.writing = false;
      this.activeWrites--;
      if (queue.rows > 0 && !queue.timer) this.schedule(tenant, queue);
      else if (queue.rows === 0 && queue.submissions.length === 0 && !queue.timer) this.tenants.delete(tenant);
      this.pump();
    }
  }

  private settle(batch: readonly Submission[], rows: number, error?: Error): void {
    this.queued -= rows;
    for (const submission of batch) {
      try {
        submission.done(error);
      } catch {
        // A completion must not break the buffer.
      }
    }
    if (this.queued === 0) {
      for (const resolve of this.idle) resolve();
      this.idle.clear();
    }
    for (const listener of this.settledListeners) listener();
  }
}
