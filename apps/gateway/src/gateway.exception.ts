import { CodedError, ErrorKind } from '#polystore/platform';

export const GatewayErrorCode = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** A valid key presented on another tenant's host. */
  WRONG_TENANT: 'WRONG_TENANT',
  /** A tenant route called on the base domain, or the admin API on a tenant host. */
  WRONG_HOST: 'WRONG_HOST',
} as const;
export type GatewayErrorCode = (typeof GatewayErrorCode)[keyof typeof GatewayErrorCode];

/** Errors raised by the gateway itself. */
export class GatewayException extends CodedError<GatewayErrorCode> {
  static validation(problems: string[]): GatewayException {
    return new GatewayException(GatewayErrorCode.VALIDATION_FAILED, ErrorKind.INVALID_ARGUMENT, problems.join('; '), {
      errors: problems,
    });
  }

  static unauthenticated(message = 'a valid API key is required (Authorization: Bearer <key>)'): GatewayException {
    return new GatewayException(GatewayErrorCode.UNAUTHENTICATED, ErrorKind.UNAUTHENTICATED, message);
  }

  static wrongTenant(): GatewayException {
    return new GatewayException(
      GatewayErrorCode.WRONG_TENANT,
      ErrorKind.PERMISSION_DENIED,
      'this API key belongs to another tenant',
    );
  }

  static wrongHost(expected: string): GatewayException {
    return new GatewayException(
      GatewayErrorCode.WRONG_HOST,
      ErrorKind.INVALID_ARGUMENT,
      `this route is served on ${expected}`,
    );
  }
}
