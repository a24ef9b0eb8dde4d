import { AeadError, deriveKey, open, seal, type MasterKeyring } from '#polystore/platform';
import { SecureStoreException } from '../secure-store.exception.js';

/** A tenant data key as stored: wrapped, with the master key version that wrapped it. */
export interface WrappedTenantKey {
  readonly id: number;
  readonly wrappedKey: Buffer;
  readonly kekVersion: number;
}

/**
 * The first level of the key hierarchy (master key -> tenant data key -> customer key): a tenant
 * data key wrapped with AES-256-GCM under `HKDF(<master key version>, "polystore/secure/kek")`.
 * New wraps use the ring's current version; a stored key opens with the KEK of the version its
 * row records. Shared by the secure store (which opens and creates keys) and `keys rotate` (which
 * moves every stored key to the current version), so both bind keys the same way.
 */
export class TenantKeyWrapper {
  /** The version every new wrap uses. */
  readonly currentVersion: number;
  private readonly keks: ReadonlyMap<number, Buffer>;

  constructor(masterKeyring: MasterKeyring) {
    this.keks = new Map(
      masterKeyring.versions.map((version) => [
        version,
        deriveKey(masterKeyring.get(version)!, 'polystore/secure/kek'),
      ]),
    );
    this.currentVersion = masterKeyring.current.version;
  }

  /** Wraps `dataKey` (key `keyId` of `tenant`) under the current master key version. */
  wrap(tenant: string, keyId: number, dataKey: Buffer): { wrappedKey: Buffer; kekVersion: number } {
    const version = this.currentVersion;
    return { wrappedKey: seal(this.keks.get(version)!, dataKey, wrapAad(tenant, keyId, version)), kekVersion: version };
  }

  /**
   * The data key of `row`; `MASTER_KEY_VERSION_MISSING` when its version is not configured,
   * `INTEGRITY_FAILURE` when it does not open (tampered, moved to another tenant or id, or its
   * recorded version altered).
   */
  unwrap(tenant: string, row: WrappedTenantKey): Buffer {
    const kek = this.keks.get(row.kekVersion);
    if (!kek) throw SecureStoreException.masterKeyVersionMissing(row.kekVersion);
    try {
      return open(kek, row.wrappedKey, wrapAad(tenant, row.id, row.kekVersion));
    } catch (error) {
      if (error instanceof AeadError) throw SecureStoreException.integrityFailure('tenant key cannot be unwrapped');
      throw error;
    }
  }
}

/**
 * What a wrapped key is bound to. Version 1 keeps the AAD of keys wrapped before versions
 * existed; later versions add theirs, so a row's recorded version cannot be changed unnoticed.
 */
function wrapAad(tenant: string, keyId: number, kekVersion: number): string {
  return kekVersion === 1 ? `tenant-key:${tenant}:${keyId}` : `tenant-key:${tenant}:${keyId}:v${kekVersion}`;
}
