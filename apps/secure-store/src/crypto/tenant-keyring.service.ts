import { Inject, Injectable } from '@nestjs/common';
import { CatalogException, CatalogService } from '#polystore/catalog';
import { deriveKey, hmacSha256, randomKey, type MasterKeyring } from '#polystore/platform';
import { RequestContextStore, type TenantSlug } from '#polystore/tenancy';
import { SecureStoreException } from '../secure-store.exception.js';
import { MASTER_KEYRING } from '../secure.tokens.js';
import { TenantKeyRepository } from './tenant-key.repository.js';
import { TenantKeyWrapper } from './tenant-key-wrap.util.js';

/** The keys of one tenant, derived from its data key (HKDF-SHA256, one subkey per purpose). */
export interface TenantKeys {
  /**
   * What the tenant's keys and ciphertexts are bound to (AAD): its catalog `keyLabel`, which
   * never changes, unlike the slug (a tenant restored under another slug reads its data back).
   */
  readonly label: string;
  readonly keyId: number;
  /**
   * AES-256-GCM key of customer fields sealed before customers had keys of their own
   * (`key_scheme` 1); new rows use a customer key instead, wrapped by {@link customerKeys}.
   */
  readonly fields: Buffer;
  /** AES-256-GCM key that wraps each customer's own key (`customer_keys`). */
  readonly customerKeys: Buffer;
  /** HMAC key of the email blind index. */
  readonly emailIndex: Buffer;
  /** HMAC key of the audit hash chain. */
  readonly audit: Buffer;
}

const CACHE_TTL_MS = 5 * 60_000;
const MAX_CACHED_TENANTS = 5_000;

/**
 * Envelope encryption: each tenant has a random 256-bit data key, stored wrapped by a KEK
 * derived from one version of the master key ({@link TenantKeyWrapper}). New keys are wrapped by
 * the current version, which the row records; a row opens with the KEK of its own version, so
 * keys wrapped by an older version keep opening while MASTER_KEY lists it (`keys rotate` moves
 * them to the current one). Unwrapped keys live only in this process's memory, cached for a few
 * minutes and forgotten when the tenant changes. Customers' own keys are not cached: opening one
 * is a single AES-GCM operation per read (see customer-key.util.ts).
 */
@Injectable()
export class TenantKeyring {
  private readonly wrapper: TenantKeyWrapper;
  private readonly cache = new Map<TenantSlug, { keys: Promise<TenantKeys>; expiresAt: number }>();

  constructor(
    @Inject(MASTER_KEYRING) masterKeyring: MasterKeyring,
    private readonly repository: TenantKeyRepository,
    private readonly catalog: CatalogService,
  ) {
    this.wrapper = new TenantKeyWrapper(masterKeyring);
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
    const label = await keyLabelOf(this.catalog, tenant);
    const { wrappedKey, kekVersion } = this.wrapper.wrap(label, 1, randomKey());
    await this.repository.insertFirst(wrappedKey, kekVersion);
    this.cache.delete(tenant);
  }

  /** Forgets the tenant's unwrapped keys (its database is being dropped). */
  forget(tenant: TenantSlug): void {
    this.cache.delete(tenant);
  }

  private async load(tenant: TenantSlug): Promise<TenantKeys> {
    const [label, row] = [await keyLabelOf(this.catalog, tenant), await this.repository.findActive()];
    if (!row) throw SecureStoreException.tenantKeyMissing();
    return deriveTenantKeys(label, row.id, this.wrapper.unwrap(label, row));
  }
}

/** The tenant's immutable key label (catalog, cached): what its keys and ciphertexts are bound to. */
export async function keyLabelOf(catalog: CatalogService, tenant: TenantSlug): Promise<string> {
  const record = await catalog.findTenant(tenant);
  if (!record) throw CatalogException.tenantNotFound(tenant);
  return record.keyLabel;
}

/** The per-purpose subkeys of data key `keyId` of the tenant labelled `label`. */
export function deriveTenantKeys(label: string, keyId: number, dataKey: Buffer): TenantKeys {
  return {
    label,
    keyId,
    fields: deriveKey(dataKey, 'customer-fields'),
    customerKeys: deriveKey(dataKey, 'customer-keys'),
    emailIndex: deriveKey(dataKey, 'email-blind-index'),
    audit: deriveKey(dataKey, 'audit-chain'),
  };
}

/** The blind index of an email: HMAC-SHA256 of its normalized form (trimmed, lower-cased). */
export function emailBlindIndex(keys: TenantKeys, email: string): Buffer {
  return hmacSha256(keys.emailIndex, email.trim().toLowerCase());
}
