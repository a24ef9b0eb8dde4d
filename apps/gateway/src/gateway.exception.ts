import { CodedError, ErrorKind } from '#polystore/platform';

export const GatewayErrorCode = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  /**
   * No key, a wrong key, a key of another tenant, or an unknown or inactive tenant: one answer
   * for all, so that it tells nothing about which tenants exist.
   */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** Over `RATE_LIMIT_PER_KEY` requests per second with this API key (429, `Retry-After`). */
  KEY_RATE_LIMITED: 'KEY_RATE_LIMITED',
  /** Over `RATE_LIMIT_PER_TENANT` requests per second for this tenant, all keys together. */
  TENANT_RATE_LIMITED: 'TENANT_RATE_LIMITED',
  /** Over `AUTH_FAILURE_LIMIT_PER_MIN` failed authentications from this client address. */
  TOO_MANY_AUTH_FAILURES: 'TOO_MANY_AUTH_FAILURES',
  /** A tenant route called on the base domain, or the admin API on a tenant host. */
  WRONG_HOST: 'WRONG_HOST',
  /** The API key is valid but its scopes do not cover this route. */
  SCOPE_DENIED: 'SCOPE_DENIED',
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

  /** 429 with `Retry-After: retryAfterSeconds` (the HTTP error filter sets it from the details). */
  static rateLimited(code: RateLimitCode, retryAfterSeconds: number): GatewayException {
    return new GatewayException(code, ErrorKind.RESOURCE_EXHAUSTED, rateLimitMessage(code, retryAfterSeconds), {
      retryAfterSeconds,
    });
  }

  static wrongHost(expected: string): GatewayException {
    return new GatewayException(
      GatewayErrorCode.WRONG_HOST,
      ErrorKind.INVALID_ARGUMENT,
      `this route is served on ${expected}`,
    );
  }

  static scopeDenied(scopes: readonly string[], area: string, reads: boolean): GatewayException {
    const needs =
      area === 'api-keys' ? 'full' : area === 'devices' ? 'full or devices' : reads ? 'full or read-only' : 'full';
    return new GatewayException(
      GatewayErrorCode.SCOPE_DENIED,
      ErrorKind.PERMISSION_DENIED,
      `this API key's scopes (${scopes.join(', ')}) do not allow this route: it needs ${needs}`,
      { scopes: [...scopes], needs },
    );
  }
}

/** The codes of a 429. */
export type RateLimitCode = 'KEY_RATE_LIMITED' | 'TENANT_RATE_LIMITED' | 'TOO_MANY_AUTH_FAILURES';

/** The message of a 429 (also built without an exception, where refusals are answered in bulk). */
export function rateLimitMessage(code: RateLimitCode, retryAfterSeconds: number): string {
  const what =
    code === GatewayErrorCode.TOO_MANY_AUTH_FAILURES
      ? 'too many failed authentications from this address'
      : `too many requests for this ${code === GatewayErrorCode.KEY_RATE_LIMITED ? 'API key' : 'tenant'}`;
  return `${what}; retry after ${retryAfterSeconds} s`;
}
