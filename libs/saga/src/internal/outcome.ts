import { ErrorKind, isCodedError } from '#polystore/platform';
import type { RetryPolicy } from '../definition.js';

/**
 * What a failed attempt means for the saga: a `business` failure (the request is wrong or
 * refused); an `unknown` outcome (the participant did not answer: unreachable, restarting, busy
 * or past its deadline; it may or may not have acted); or a `failed` attempt (it answered with an
 * internal error, or the step itself threw).
 */
export type AttemptFailure = 'business' | 'unknown' | 'failed';

/** Kinds that say "the request itself is wrong or refused": retrying cannot help. */
const BUSINESS_KINDS = new Set<ErrorKind>([
  ErrorKind.INVALID_ARGUMENT,
  ErrorKind.CONFLICT,
  ErrorKind.NOT_FOUND,
  ErrorKind.PERMISSION_DENIED,
  ErrorKind.UNAUTHENTICATED,
  ErrorKind.PAYLOAD_TOO_LARGE,
]);

/** True for error kinds that say the request itself is wrong or refused (a settled answer, not an outage). */
export function isBusinessKind(kind: ErrorKind): boolean {
  return BUSINESS_KINDS.has(kind);
}

/** Kinds that say "no answer (yet)": the participant may come back, and the same key be sent again. */
const UNKNOWN_KINDS = new Set<ErrorKind>([
  ErrorKind.UNAVAILABLE,
  ErrorKind.DEADLINE_EXCEEDED,
  ErrorKind.RESOURCE_EXHAUSTED,
]);

/**
 * A business failure goes straight to compensation (no retry loop). An unknown outcome is
 * retried with the same key (participants deduplicate it) for the step's unknown-outcome window;
 * a failed attempt, up to the step's `maxAttempts`.
 */
export function classifyFailure(error: unknown, policy: RetryPolicy): AttemptFailure {
  if (!isCodedError(error)) return 'failed';
  if (BUSINESS_KINDS.has(error.kind) || policy.nonRetryableCodes.includes(error.code)) return 'business';
  return UNKNOWN_KINDS.has(error.kind) ? 'unknown' : 'failed';
}

/**
 * Delay before attempt `attempt + 1` (attempt counts from 1): exponential up to `maxIntervalMs`,
 * with full jitter over its upper half, so participants coming back are not hit by every waiting
 * saga at the same instant.
 */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(
    policy.maxIntervalMs,
    policy.initialIntervalMs * policy.backoffCoefficient ** Math.max(0, attempt - 1),
  );
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** A safe description of an error for the log (code, kind and message of coded errors only). */
export function describeError(error: unknown): { code: string; kind: ErrorKind; message: string } {
  if (isCodedError(error)) return { code: error.code, kind: error.kind, message: error.message };
  return { code: 'INTERNAL', kind: ErrorKind.INTERNAL, message: 'unexpected error' };
}
