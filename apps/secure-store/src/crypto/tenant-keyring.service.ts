import { Inject, Injectable } from '@nestjs/common';
import { CatalogService } from '#polystore/catalog';
import { AeadError, deriveKey, hmacSha256, open, randomKey, seal } from '#polystore/platform';
import { RequestContextStore, type TenantSlug } from '#polystore/tenancy';
import { SecureStoreException } from '../secure-store.exception.js';
import { MASTER_KEY } from '../secure.tokens.js';
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
 * Envelope encryption: each tenant has a random 256-bit data key, stored wrapped by a key
 * derived from MASTER_KEY (AAD = tenant + key id). Unwrapped keys live only in this process's
 * memory, cached for a few minutes and forgotten when the tenant changes.
 */
@Injectable()
export class TenantKeyring {
  private readonly kek: Buffer;
  private readonly cache = new Map<TenantSlug, { keys: Promise<TenantKeys>; expiresAt: number }>();

  constructor(
    @Inject(MASTER_KEY) masterKey: Buffer,
    private readonly repository: TenantKeyRepository,
    catalog: CatalogService,
  ) {
    this.kek = deriveKey(masterKey, 'polystore/secure/kek');
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
    await this.repository.insertFirst(seal(this.kek, randomKey(), wrapAad(tenant, 1)));
    this.cache.delete(tenant);
  }

  /** Forgets the tenant's unwrapped keys (its database is being dropped). */
  forget(tenant: TenantSlug): void {
    this.cache.delete(tenant);
  }

  private async load(tenant: TenantSlug): Promise<TenantKeys> {
    const row = await this.repository.findActive();
    if (!row) throw SecureStoreException.tenantKeyMissing();
    let dataKey: Buffer;
    try {
      dataKey = open(this.kek, row.wrappedKey, wrapAad(tenant, row.id));
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

function wrapAad(tenant: string, keyId: number): string {
  return `tenant-key:${tenant}:${keyId}`;
}

/** The blind index of an email: HMAC-SHA256 of its normalized form (trimmed, lower-cased). */
export function emailBlindIndex(keys: TenantKeys, email: string): Buffer {
  return hmacSha256(keys.emailIndex, email.trim().toLowerCase());
}
