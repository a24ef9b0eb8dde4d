import { Inject, Injectable } from '@nestjs/common';
import { CatalogService } from '#polystore/catalog';
import { AeadError, deriveKey, hmacSha256, open, randomKey, seal, type MasterKeyring } from '#polystore/platform';
import { RequestContextStore, type TenantSlug } from '#polystore/tenancy';
import { SecureStoreException } from '../secure-store.exception.js';
import { MASTER_KEYRING } from '../secure.tokens.js';
import { TenantKeyRepository } from './tenant-key.repository.js';

/** The keys of one tenant, derived from its data key (HKDF-SHA256, one subkey per purpose). */
export interface TenantKeys {
  readonly keyId: number;
  /** AES-256-GCM key for customer fields. */
  readonly fields: Buffer;
  /** HMAC key of the email blind index. */
  readonly emailIndex: Buffer;
  /** HMAC key of the audit hash chain. */
  readonly audit: Buffer;
}

const CACHE_TTL_MS = 5 * 60_000;
const MAX_CACHED_TENANTS = 5_000;

/**
 * Envelope encryption: each tenant has a random 256-bit data key, stored wrapped by a KEK
 * derived from one version of the master key (AAD = tenant + key id, + version above 1). New
 * keys are wrapped by the current version, which the row records; a row opens with the KEK of
 * its own version, so keys wrapped by an older version keep opening while MASTER_KEY lists it.
 * Unwrapped keys live only in this process's memory, cached for a few minutes and forgotten
 * when the tenant changes.
 */
@Injectable()
export class TenantKeyring {
  /** The KEK of every configured master key version. */
  private readonly keks: ReadonlyMap<number, Buffer>;
  private readonly currentVersion: number;
  private readonly cache = new Map<TenantSlug, { keys: Promise<TenantKeys>; expiresAt: number }>();

  constructor(
    @Inject(MASTER_KEYRING) masterKeyring: MasterKeyring,
    private readonly repository: TenantKeyRepository,
    catalog: CatalogService,
  ) {
    this.keks = new Map(
      masterKeyring.versions.map((version) => [
        version,
        deriveKey(masterKeyring.get(version)!, 'polystore/secure/kek'),
      ]),
    );
    this.currentVersion = masterKeyring.current.version;
    catalog.onTenantChanged((tenant) => this.cache.delete(tenant));
  }

  /** The current tenant's keys; `TENANT_KEY_MISSING` if it was never provisioned. */
  current(): Promise<TenantKeys> {
    const tenant = RequestContextStore.requireTenant();
    const hit = this.cache.get(tenant);
    if (hit && hit.expiresAt > Date.now()) return hit.keys;
    const keys = this.load(tenant);
    this.cache.set(tenant, { keys, expiresAt: Date.now() + CACHE_TTL_MS });
    if (this.cache.size > MAX_CACHED_TENANTS) this.cache.delete(this.cache.keys().next().value as TenantSlug);
    keys.catch(() => this.cache.delete(tenant));
    return keys;
  }

  /** Creates the current tenant's data key unless it has one (idempotent). */
  async ensureDataKey(): Promise<void> {
    const tenant = RequestContextStore.requireTenant();
    if (await this.repository.findActive()) return;
    const version = this.currentVersion;
    await this.repository.insertFirst(seal(this.keks.get(version)!, randomKey(), wrapAad(tenant, 1, version)), version);
    this.cache.delete(tenant);
  }

  /** Forgets the tenant's unwrapped keys (its database is being dropped). */
  forget(tenant: TenantSlug): void {
    this.cache.delete(tenant);
  }

  private async load(tenant: TenantSlug): Promise<TenantKeys> {
    const row = await this.repository.findActive();
    if (!row) throw SecureStoreException.tenantKeyMissing();
    const kek = this.keks.get(row.kekVersion);
    if (!kek) throw SecureStoreException.masterKeyVersionMissing(row.kekVersion);
    let dataKey: Buffer;
    try {
      dataKey = open(kek, row.wrappedKey, wrapAad(tenant, row.id, row.kekVersion));
    } catch (error) {
      if (error instanceof AeadError) throw SecureStoreException.integrityFailure('tenant key cannot be unwrapped');
      throw error;
    }
    return {
      keyId: row.id,
      fields: deriveKey(dataKey, 'customer-fields'),
      emailIndex: deriveKey(dataKey, 'email-blind-index'),
      audit: deriveKey(dataKey, 'audit-chain'),
    };
  }
}

/**
 * What a wrapped key is bound to. Version 1 keeps the AAD of keys wrapped before versions
 * existed; later versions add theirs, so a row's recorded version cannot be changed unnoticed.
 */
function wrapAad(tenant: string, keyId: number, kekVersion: number): string {
  return kekVersion === 1 ? `tenant-key:${tenant}:${keyId}` : `tenant-key:${tenant}:${keyId}:v${kekVersion}`;
}

/** The blind index of an email: HMAC-SHA256 of its normalized form (trimmed, lower-cased). */
export function emailBlindIndex(keys: TenantKeys, email: string): Buffer {
  return hmacSha256(keys.emailIndex, email.trim().toLowerCase());
}
