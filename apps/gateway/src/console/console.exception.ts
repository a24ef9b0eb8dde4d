import { CodedError, ErrorKind } from '#polystore/platform';

export const ConsoleErrorCode = {
  /** No console session, an expired one, or one signed with another admin token. */
  CONSOLE_UNAUTHENTICATED: 'CONSOLE_UNAUTHENTICATED',
  /** The login form's token is not the admin token. */
  CONSOLE_WRONG_TOKEN: 'CONSOLE_WRONG_TOKEN',
  /** A state-changing POST without the session's CSRF token. */
  CSRF_REJECTED: 'CSRF_REJECTED',
  /** A POST whose `Origin` is not the console's own host. */
  ORIGIN_REJECTED: 'ORIGIN_REJECTED',
  /** No page here (an unknown tenant or saga is reported with its own code). */
  CONSOLE_NOT_FOUND: 'CONSOLE_NOT_FOUND',
  /** No job run with this id in the catalog. */
  JOB_RUN_NOT_FOUND: 'JOB_RUN_NOT_FOUND',
} as const;
export type ConsoleErrorCode = (typeof ConsoleErrorCode)[keyof typeof ConsoleErrorCode];

/** Errors of the console itself; rendered as HTML pages by `ConsoleErrorFilter`. */
export class ConsoleException extends CodedError<ConsoleErrorCode> {
  static unauthenticated(): ConsoleException {
    return new ConsoleException(ConsoleErrorCode.CONSOLE_UNAUTHENTICATED, ErrorKind.UNAUTHENTICATED, 'log in first');
  }

  static wrongToken(): ConsoleException {
    return new ConsoleException(ConsoleErrorCode.CONSOLE_WRONG_TOKEN, ErrorKind.UNAUTHENTICATED, 'wrong token');
  }

  static csrfRejected(): ConsoleException {
    return new ConsoleException(
      ConsoleErrorCode.CSRF_REJECTED,
      ErrorKind.PERMISSION_DENIED,
      'CSRF token missing or wrong',
    );
  }

  static jobRunNotFound(id: string): ConsoleException {
    return new ConsoleException(ConsoleErrorCode.JOB_RUN_NOT_FOUND, ErrorKind.NOT_FOUND, `no job run ${id}`);
  }

  static originRejected(): ConsoleException {
    return new ConsoleException(
      ConsoleErrorCode.ORIGIN_REJECTED,
      ErrorKind.PERMISSION_DENIED,
      'cross-origin request refused: Origin is not this host',
    );
  }
}
