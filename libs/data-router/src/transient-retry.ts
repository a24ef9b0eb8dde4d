import { ExponentialBackoff, handleWhen, retry, type RetryPolicy } from 'cockatiel';
import { isTransientSqlError } from './sql-errors.js';

/** Bounds of {@link transientRetryPolicy}. */
export interface TransientRetryOptions {
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** Other errors the caller knows to be transient. */
  readonly alsoRetry?: (error: Error) => boolean;
}

const DEFAULTS: TransientRetryOptions = { maxAttempts: 5, initialDelayMs: 10, maxDelayMs: 500 };

/**
 * Retries a whole unit of work (a transaction) on deadlocks, lock wait timeouts, serialization
 * failures and lost connections, with exponential backoff and jitter, a bounded number of
 * times; anything else fails at once. Only wrap work that is idempotent: after a lost
 * connection the first attempt may have committed.
 */
export function transientRetryPolicy(overrides: Partial<TransientRetryOptions> = {}): RetryPolicy {
  const options = { ...DEFAULTS, ...overrides };
  return retry(
    handleWhen((error) => isTransientSqlError(error) || (options.alsoRetry?.(error) ?? false)),
    {
      maxAttempts: options.maxAttempts - 1,
      backoff: new ExponentialBackoff({ initialDelay: options.initialDelayMs, maxDelay: options.maxDelayMs }),
    },
  );
}
