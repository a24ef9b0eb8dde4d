import { transientRetryPolicy, type DataSourceRouter } from '#polystore/data-router';
import type { RetryPolicy } from 'cockatiel';
import { LessThan, type EntityManager } from 'typeorm';
import { IdempotencyException } from './idempotency.exception.js';
import { IdempotencyKeyEntity } from './idempotency-key.entity.js';
import { KeyLedger } from './key-ledger.js';
import { requestFingerprint } from './request-fingerprint.util.js';

/** Without `/`: keys of that form are saga steps' (`saga/<sagaId>/<step>`, libs/saga), in the same table. */
const KEY_PATTERN = /^[A-Za-z0-9._:-]{1,200}$/;

/** The outcome of an idempotent operation. */
export interface IdempotentOutcome<T> {
  readonly result: T;
  /** True when the result was stored by an earlier call with the same key. */
  readonly replayed: boolean;
}

export interface IdempotentExecutorOptions {
  /** How long a key is remembered (a replay after that may run the operation again). */
  readonly ttlMs: number;
  /** Overrides the default transient-failure retry (which also retries a released key). */
  readonly retry?: RetryPolicy;
}

/** The key was claimed by a transaction that then rolled back: the operation must run again. */
class KeyReleased extends Error {}

/**
 * Runs a write at most once per idempotency key, in the current tenant's database.
 *
 * Through `KeyLedger`: in one transaction, claim the key, run the effect, store its result; so a
 * key is stored if and only if its effect committed. A later call with the same key and request
 * gets the stored result; with another request, `IDEMPOTENCY_MISMATCH` (409). Deadlocks, lock
 * timeouts and lost connections retry the whole transaction (bounded, with backoff): safe, since
 * a retry after an unseen commit finds the key.
 */
export class IdempotentExecutor {
  private readonly retry: RetryPolicy;

  constructor(
    private readonly router: DataSourceRouter,
    private readonly options: IdempotentExecutorOptions,
  ) {
    this.retry = options.retry ?? transientRetryPolicy({ alsoRetry: (error) => error instanceof KeyReleased });
  }

  /**
   * Runs `work` once for `key`. `operation` and `request` define what "the same request" is;
   * `work` runs inside the transaction that also stores the key and must do all its writes
   * through the given manager. Its result must be JSON-serializable.
   */
  async execute<T>(
    key: string,
    operation: string,
    request: unknown,
    work: (manager: EntityManager) => Promise<T>,
  ): Promise<IdempotentOutcome<T>> {
    if (!KEY_PATTERN.test(key)) throw IdempotencyException.invalidKey();
    const fingerprint = requestFingerprint(operation, request);
    const claim = { key, requestHash: fingerprint, expiresAt: new Date(Date.now() + this.options.ttlMs) };
    return this.retry.execute(async () => {
      const outcome = await KeyLedger.runOnce(this.router, claim, 'done', work);
      if (outcome.ran) return { result: outcome.result, replayed: false };
      const stored = outcome.existing;
      if (!stored || stored.result === null) throw new KeyReleased('idempotency key claimed, then rolled back');
      if (stored.requestHash !== fingerprint) throw IdempotencyException.mismatch();
      return { result: JSON.parse(stored.result) as T, replayed: true };
    });
  }

  /** Deletes keys past their expiry, at most `limit` per call; returns how many. */
  async purgeExpired(limit = 1_000): Promise<number> {
    return this.router.run(async (ds) => {
      const repository = ds.getRepository(IdempotencyKeyEntity);
      const expired = await repository.find({
        select: { key: true },
        where: { expiresAt: LessThan(new Date()) },
        take: limit,
      });
      if (expired.length === 0) return 0;
      await repository.delete(expired.map((row) => row.key));
      return expired.length;
    });
  }
}
