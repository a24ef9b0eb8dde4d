import { CodedError, ErrorKind, TENANT_SLUG_PATTERN, TENANT_SLUG_RULE } from '#polystore/platform';

export const TenancyErrorCode = {
  /** The Host header is not `<slug>.<BASE_DOMAIN>` (or BASE_DOMAIN itself where allowed). */
  MALFORMED_HOST: 'MALFORMED_HOST',
  /** A tenant slug does not match `TENANT_SLUG_PATTERN`. */
  INVALID_TENANT: 'INVALID_TENANT',
  /** Tenant data was touched outside of a tenant context: a programming error. */
  NO_TENANT_CONTEXT: 'NO_TENANT_CONTEXT',
} as const;
export type TenancyErrorCode = (typeof TenancyErrorCode)[keyof typeof TenancyErrorCode];

/** Errors raised by `libs/tenancy`. */
export class TenancyException extends CodedError<TenancyErrorCode> {
  static malformedHost(): TenancyException {
    return new TenancyException(
      TenancyErrorCode.MALFORMED_HOST,
      ErrorKind.INVALID_ARGUMENT,
      `Host must be <tenant>.<base domain>, where tenant matches ${TENANT_SLUG_PATTERN.source}`,
    );
  }

  static invalidTenant(): TenancyException {
    return new TenancyException(
      TenancyErrorCode.INVALID_TENANT,
      ErrorKind.INVALID_ARGUMENT,
      `tenant ${TENANT_SLUG_RULE}`,
    );
  }

  static noTenantContext(): TenancyException {
    return new TenancyException(
      TenancyErrorCode.NO_TENANT_CONTEXT,
      ErrorKind.INTERNAL,
      'tenant data accessed outside of a tenant context',
    );
  }
}
