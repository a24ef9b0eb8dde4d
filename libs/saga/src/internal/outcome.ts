import { ErrorKind, isCodedError } from '#polystore/platform';
import type { RetryPolicy } from '../definition.js';

/** What a failed attempt means for the saga. */
export type AttemptFailure = 'business' | 'transient';

/** Kinds that say "the request itself is wrong or refused": retrying cannot help. */
const BUSINESS_KINDS = new Set<ErrorKind>([
  ErrorKind.INVALID_ARGUMENT,
  ErrorKind.CONFLICT,
  ErrorKind.NOT_FOUND,
  ErrorKind.PERMISSION_DENIED,
  ErrorKind.UNAUTHENTICATED,
  ErrorKind.PAYLOAD_TOO_LARGE,
]);

/**
 * A business failure goes straight to compensation (no retry loop); anything else (unavailable,
 * deadline exceeded, internal, unknown) leaves the outcome unknown: retried with the same key,
 * which participants deduplicate.
 */
export function classifyFailure(error: unknown, policy: RetryPolicy): AttemptFailure {
  if (isCodedError(error) && (BUSINESS_KINDS.has(error.kind) || policy.nonRetryableCodes.includes(error.code)))
    return 'business';
  return 'transient';
}

/** Delay before attempt `attempt + 1` (attempt counts from 1). */
export function backoffMs(policy: RetryPolicy, attempt: number): number {
  return Math.min(
    policy.maxIntervalMs,
    policy.initialIntervalMs * policy.backoffCoefficient ** Math.max(0, attempt - 1),
  );
}

/** A safe description of an error for the log (code, kind and message of coded errors only). */
export function describeError(error: unknown): { code: string; kind: ErrorKind; message: string } {
  if (isCodedError(error)) return { code: error.code, kind: error.kind, message: error.message };
  return { code: 'INTERNAL', kind: ErrorKind.INTERNAL, message: 'unexpected error' };
}
