import { CodedError, ErrorKind, isCodedError, isErrorKind } from '#polystore/platform';
import { ZodError } from 'zod';
import { MessagingException } from './messaging.exception.js';

/** An error as it crosses NATS: code and kind, a safe message, optional safe details. */
export interface WireError {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

/** An error relayed from a remote handler, with its original code and kind. */
export class RemoteError extends CodedError {}

/** Field paths and messages of a zod failure, e.g. `email: Invalid email address`. */
export function describeZodError(error: ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.map(String).join('.') || 'body'}: ${issue.message}`);
}

/**
 * Converts any thrown value into a {@link WireError}. Coded errors keep their code; anything
 * else becomes a generic `INTERNAL` without its message, which may hold SQL or internals.
 */
export function toWireError(error: unknown): WireError {
  if (error instanceof ZodError) return toWireError(MessagingException.invalidMessage(describeZodError(error)));
  if (isCodedError(error)) {
    return error.details
      ? { code: error.code, kind: error.kind, message: error.message, details: error.details }
      : { code: error.code, kind: error.kind, message: error.message };
  }
  return { code: 'INTERNAL', kind: ErrorKind.INTERNAL, message: 'internal error' };
}

/** Rebuilds a typed error from a wire payload (anything malformed becomes `REMOTE_INTERNAL`). */
export function fromWireError(payload: unknown, pattern: string): CodedError {
  if (typeof payload === 'object' && payload !== null) {
    const { code, kind, message, details } = payload as Partial<WireError>;
    if (typeof code === 'string' && isErrorKind(kind) && typeof message === 'string') {
      return new RemoteError(
        code,
        kind,
        message,
        typeof details === 'object' && details !== null ? details : undefined,
      );
    }
  }
  return MessagingException.remoteInternal(pattern);
}
