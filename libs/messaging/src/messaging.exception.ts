import { CodedError, ErrorKind } from '#polystore/platform';

export const MessagingErrorCode = {
  /** Nobody answered before the deadline: the outcome of the request is unknown. */
  DEADLINE_EXCEEDED: 'DEADLINE_EXCEEDED',
  /** No instance of the target service is subscribed (it is down), or the bus is unreachable. */
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  /** A message payload failed its contract's schema. */
  INVALID_MESSAGE: 'INVALID_MESSAGE',
  /** The remote side failed without a code (an unexpected error), or answered garbage. */
  REMOTE_INTERNAL: 'REMOTE_INTERNAL',
  /** A request reached a store without the sender's signed context. */
  CONTEXT_UNSIGNED: 'CONTEXT_UNSIGNED',
  /** A request's signature is from an unknown key or does not match its subject, headers or payload. */
  CONTEXT_INVALID: 'CONTEXT_INVALID',
  /** A request's signed context is outside its validity (signed in the future, past its deadline, or too long-lived). */
  CONTEXT_EXPIRED: 'CONTEXT_EXPIRED',
  /** A request's signed context was already used once. */
  CONTEXT_REPLAYED: 'CONTEXT_REPLAYED',
} as const;
export type MessagingErrorCode = (typeof MessagingErrorCode)[keyof typeof MessagingErrorCode];

/** Errors raised by `libs/messaging` itself (as opposed to errors relayed from a remote handler). */
export class MessagingException extends CodedError<MessagingErrorCode> {
  static deadlineExceeded(pattern: string): MessagingException {
    return new MessagingException(
      MessagingErrorCode.DEADLINE_EXCEEDED,
      ErrorKind.DEADLINE_EXCEEDED,
      `no answer to ${pattern} before the deadline`,
      { pattern },
    );
  }

  static serviceUnavailable(pattern: string, service: string): MessagingException {
    return new MessagingException(
      MessagingErrorCode.SERVICE_UNAVAILABLE,
      ErrorKind.UNAVAILABLE,
      `${service} is unavailable`,
      { pattern, service },
    );
  }

  static invalidMessage(fields: string[]): MessagingException {
    return new MessagingException(
      MessagingErrorCode.INVALID_MESSAGE,
      ErrorKind.INVALID_ARGUMENT,
      `invalid message: ${fields.join('; ')}`,
      { fields },
    );
  }

  static remoteInternal(pattern: string): MessagingException {
    return new MessagingException(MessagingErrorCode.REMOTE_INTERNAL, ErrorKind.INTERNAL, `${pattern} failed`, {
      pattern,
    });
  }

  static contextUnsigned(subject: string): MessagingException {
    return new MessagingException(
      MessagingErrorCode.CONTEXT_UNSIGNED,
      ErrorKind.UNAUTHENTICATED,
      'the request carries no signed context',
      { subject },
    );
  }

  static contextInvalid(subject: string, reason: string): MessagingException {
    return new MessagingException(
      MessagingErrorCode.CONTEXT_INVALID,
      ErrorKind.UNAUTHENTICATED,
      `the request's signed context is invalid: ${reason}`,
      { subject },
    );
  }

  static contextExpired(subject: string): MessagingException {
    return new MessagingException(
      MessagingErrorCode.CONTEXT_EXPIRED,
      ErrorKind.UNAUTHENTICATED,
      "the request's signed context has expired",
      { subject },
    );
  }

  static contextReplayed(subject: string): MessagingException {
    return new MessagingException(
      MessagingErrorCode.CONTEXT_REPLAYED,
      ErrorKind.UNAUTHENTICATED,
      "the request's signed context was already used",
      { subject },
    );
  }
}
