import { CodedError, ErrorKind } from '#polystore/platform';

export const CatalogErrorCode = {
  TENANT_NOT_FOUND: 'TENANT_NOT_FOUND',
  TENANT_EXISTS: 'TENANT_EXISTS',
  /** The tenant exists but is being provisioned or deleted. */
  TENANT_NOT_READY: 'TENANT_NOT_READY',
  PLACEMENT_NOT_FOUND: 'PLACEMENT_NOT_FOUND',
  INVALID_PLACEMENT: 'INVALID_PLACEMENT',
  /** The placement changed since it was read (another move or write won): read it again. */
  PLACEMENT_VERSION_CONFLICT: 'PLACEMENT_VERSION_CONFLICT',
  /** This process holds no key for a store's placements (a store holds only its own). */
  NO_STORE_KEY: 'NO_STORE_KEY',
  /**
   * A placement's sealed server password does not open with this process's key for its store
   * (sealed under another master key, or the master key's first version was dropped).
   */
  PLACEMENT_SECRET_UNREADABLE: 'PLACEMENT_SECRET_UNREADABLE',
  /** No live API key with this id belongs to the tenant (unknown, revoked, expired or rotated). */
  API_KEY_NOT_FOUND: 'API_KEY_NOT_FOUND',
} as const;
export type CatalogErrorCode = (typeof CatalogErrorCode)[keyof typeof CatalogErrorCode];

/** Errors raised by `libs/catalog`. */
export class CatalogException extends CodedError<CatalogErrorCode> {
  static tenantNotFound(tenant: string): CatalogException {
    return new CatalogException(CatalogErrorCode.TENANT_NOT_FOUND, ErrorKind.NOT_FOUND, `unknown tenant ${tenant}`, {
      tenant,
    });
  }

  static tenantExists(tenant: string): CatalogException {
    return new CatalogException(CatalogErrorCode.TENANT_EXISTS, ErrorKind.CONFLICT, `tenant ${tenant} already exists`, {
      tenant,
    });
  }

  static tenantNotReady(tenant: string, status: string): CatalogException {
    return new CatalogException(
      CatalogErrorCode.TENANT_NOT_READY,
      ErrorKind.CONFLICT,
      `tenant ${tenant} is ${status}`,
      { tenant, status },
    );
  }

  static placementNotFound(tenant: string, store: string): CatalogException {
    return new CatalogException(
      CatalogErrorCode.PLACEMENT_NOT_FOUND,
      ErrorKind.NOT_FOUND,
      `tenant ${tenant} has no ${store} placement`,
      { tenant, store },
    );
  }

  static placementVersionConflict(tenant: string, store: string, expected: number, found: number): CatalogException {
    return new CatalogException(
      CatalogErrorCode.PLACEMENT_VERSION_CONFLICT,
      ErrorKind.CONFLICT,
      `the ${store} placement of tenant ${tenant} is at version ${found}, not ${expected}: it changed meanwhile`,
      { tenant, store, expected, found },
    );
  }

  static invalidPlacement(what: string): CatalogException {
    return new CatalogException(
      CatalogErrorCode.INVALID_PLACEMENT,
      ErrorKind.INVALID_ARGUMENT,
      `invalid placement: ${what}`,
    );
  }

  static secretUnreadable(store: string): CatalogException {
    return new CatalogException(
      CatalogErrorCode.PLACEMENT_SECRET_UNREADABLE,
      ErrorKind.UNAVAILABLE,
      `the ${store} placement's server password does not open with this process's ${store} store key (sealed under another master key?)`,
      { store },
    );
  }

  static noStoreKey(store: string): CatalogException {
    return new CatalogException(
      CatalogErrorCode.NO_STORE_KEY,
      ErrorKind.INTERNAL,
      `this process holds no key for the ${store} store's placements`,
      { store },
    );
  }

  static apiKeyNotFound(keyId: string): CatalogException {
    return new CatalogException(
      CatalogErrorCode.API_KEY_NOT_FOUND,
      ErrorKind.NOT_FOUND,
      `no live API key ${keyId} in this tenant`,
      { keyId },
    );
  }
}
