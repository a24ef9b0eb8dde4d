import { CodedError, ErrorKind } from '#polystore/platform';

export const SecureStoreErrorCode = {
  CUSTOMER_NOT_FOUND: 'CUSTOMER_NOT_FOUND',
  /** No credential of the device was ever recorded here. */
  DEVICE_NOT_FOUND: 'DEVICE_NOT_FOUND',
  /** The tenant's data key is missing: the database was not provisioned by this store. */
  TENANT_KEY_MISSING: 'TENANT_KEY_MISSING',
  /** A sealed value failed authentication: tampering, or a wrong master key. */
  INTEGRITY_FAILURE: 'INTEGRITY_FAILURE',
  /** The tenant's data key was wrapped by a master key version this process is not given. */
  MASTER_KEY_VERSION_MISSING: 'MASTER_KEY_VERSION_MISSING',
  /** A tenant key changed while `keys rotate` rewrapped it, to something else than the current version. */
  KEY_ROTATION_CONFLICT: 'KEY_ROTATION_CONFLICT',
} as const;
export type SecureStoreErrorCode = (typeof SecureStoreErrorCode)[keyof typeof SecureStoreErrorCode];

/** Errors raised by the secure store. */
export class SecureStoreException extends CodedError<SecureStoreErrorCode> {
  static customerNotFound(id: string): SecureStoreException {
    return new SecureStoreException(
      SecureStoreErrorCode.CUSTOMER_NOT_FOUND,
      ErrorKind.NOT_FOUND,
      `customer ${id} not found`,
      {
        id,
      },
    );
  }

  static deviceNotFound(id: string): SecureStoreException {
    return new SecureStoreException(
      SecureStoreErrorCode.DEVICE_NOT_FOUND,
      ErrorKind.NOT_FOUND,
      `device ${id} not found`,
      {
        id,
      },
    );
  }

  static tenantKeyMissing(): SecureStoreException {
    return new SecureStoreException(
      SecureStoreErrorCode.TENANT_KEY_MISSING,
      ErrorKind.UNAVAILABLE,
      'tenant secure database is not provisioned',
    );
  }

  /**
   * The tenant's data key was wrapped by master key `version`, which MASTER_KEY does not list: the
   * operator must add it back (UNAVAILABLE, since the data opens again once it is configured).
   */
  static masterKeyVersionMissing(version: number): SecureStoreException {
    return new SecureStoreException(
      SecureStoreErrorCode.MASTER_KEY_VERSION_MISSING,
      ErrorKind.UNAVAILABLE,
      `tenant key wrapped by master key v${version}, which is not configured`,
      { version },
    );
  }

  /** Tenant key `id` was changed by someone else during a rewrap (the rewrap wrote nothing: run it again). */
  static keyRotationConflict(id: number): SecureStoreException {
    return new SecureStoreException(
      SecureStoreErrorCode.KEY_ROTATION_CONFLICT,
      ErrorKind.CONFLICT,
      `tenant key ${id} changed during the rewrap; run it again`,
      { id },
    );
  }

  static integrityFailure(what: string): SecureStoreException {
    return new SecureStoreException(
      SecureStoreErrorCode.INTEGRITY_FAILURE,
      ErrorKind.INTERNAL,
      `integrity check failed: ${what}`,
    );
  }
}
