/**
 * The small, closed set of failure kinds every Polystore error maps to.
 *
 * A kind says what the caller can do about a failure (fix the input, retry later, give up);
 * the `code` says precisely what happened. Only the gateway turns kinds into HTTP statuses.
 */
export const ErrorKind = {
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  RESOURCE_EXHAUSTED: 'RESOURCE_EXHAUSTED',
  UNAVAILABLE: 'UNAVAILABLE',
  DEADLINE_EXCEEDED: 'DEADLINE_EXCEEDED',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorKind = (typeof ErrorKind)[keyof typeof ErrorKind];

const KINDS = new Set<string>(Object.values(ErrorKind));

/** True when `value` is one of the {@link ErrorKind} names. */
export function isErrorKind(value: unknown): value is ErrorKind {
  return typeof value === 'string' && KINDS.has(value);
}

/**
 * Base class of every error Polystore raises on purpose.
 *
 * `code` is stable and machine-readable (it crosses NATS and reaches HTTP clients);
 * `message` is for humans and must never contain secrets, PII, SQL or stack traces;
 * `details` is optional structured data that is safe to show to the caller (e.g. field names).
 */
export class CodedError<C extends string = string> extends Error {
  constructor(
    readonly code: C,
    readonly kind: ErrorKind,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** True for any {@link CodedError}, whatever its concrete class or module copy. */
export function isCodedError(error: unknown): error is CodedError {
  return (
    error instanceof CodedError ||
    (error instanceof Error &&
      typeof (error as Partial<CodedError>).code === 'string' &&
      isErrorKind((error as Partial<CodedError>).kind))
  );
}
