import type { DataSourceRouter } from '#polystore/data-router';
import type { MasterKeyring } from '#polystore/platform';
import { RequestContextStore, type TenantSlug } from '#polystore/tenancy';
import { resealWithOwnKey } from '../customers/customer-cipher.util.js';
import { CustomerRepository } from '../customers/customer.repository.js';
import { SecureStoreException } from '../secure-store.exception.js';
import { deriveTenantKeys, type TenantKeys } from './tenant-keyring.service.js';
import { TenantKeyRepository } from './tenant-key.repository.js';
import { TenantKeyWrapper } from './tenant-key-wrap.util.js';

/** What `rewrapTenantKeys` did for one tenant. */
export interface TenantKeyRewrap {
  /** Keys wrapped again under the current master key version by this call. */
  readonly rewrapped: number;
  /** Keys that already were (or that a concurrent run moved there first). */
  readonly alreadyCurrent: number;
  /** The current master key version. */
  readonly kekVersion: number;
}

/** What `upgradeCustomers` did for one tenant. */
export interface CustomerKeyUpgrade {
  /** Rows sealed again under keys of their own by this call. */
  readonly upgraded: number;
  /** Rows still sealed with the tenant field key (held by another transaction meanwhile). */
  readonly remaining: number;
}

/**
 * Key maintenance of the current tenant's secure data, run by the CLI outside the secure store
 * (`polystore keys rotate`, `polystore keys upgrade-customers`) while the store keeps serving.
 * Every change is a compare-and-set or runs under row locks, so a secure store reading or
 * creating keys at the same time, or a second run, never loses a write; each call is idempotent,
 * and a crash between two writes leaves every key readable, in its old form or its new one.
 */
export class SecureKeyMaintenance {
  private readonly wrapper: TenantKeyWrapper;
  private readonly tenantKeys: TenantKeyRepository;
  private readonly customers: CustomerRepository;

  /**
   * `router` reaches the secure placements (the secure store's schema); `masterKeyring` is
   * MASTER_KEY; `labelOf` gives a tenant's key label, what its keys are bound to (`keyLabelOf`
   * with the catalog).
   */
  constructor(
    private readonly router: DataSourceRouter,
    masterKeyring: MasterKeyring,
    private readonly labelOf: (tenant: TenantSlug) => Promise<string>,
  ) {
    this.wrapper = new TenantKeyWrapper(masterKeyring);
    this.tenantKeys = new TenantKeyRepository(router);
    this.customers = new CustomerRepository(router);
  }

  /** The master key version keys are moved to. */
  get currentVersion(): number {
    return this.wrapper.currentVersion;
  }

  /**
   * Wraps each of the tenant's data keys (the key itself does not change: nothing sealed under it
   * is touched) under the current master key version. A key is opened with the version its row
   * records and replaced only if the row still holds what was read. `MASTER_KEY_VERSION_MISSING`
   * when a key's version is not in MASTER_KEY; `TENANT_KEY_MISSING` when the tenant has no key.
   */
  async rewrapTenantKeys(): Promise<TenantKeyRewrap> {
    const label = await this.labelOf(RequestContextStore.requireTenant());
    const rows = await this.tenantKeys.findAll();
    if (rows.length === 0) throw SecureStoreException.tenantKeyMissing();
    let rewrapped = 0;
    let alreadyCurrent = 0;
    for (const row of rows) {
      if (row.kekVersion === this.wrapper.currentVersion) {
        alreadyCurrent++;
        continue;
      }
      const dataKey = this.wrapper.unwrap(label, row);
      try {
        if (await this.tenantKeys.replaceWrap(row, this.wrapper.wrap(label, row.id, dataKey))) rewrapped++;
        else alreadyCurrent += await this.changedMeanwhile(row.id);
      } finally {
        dataKey.fill(0);
      }
    }
    return { rewrapped, alreadyCurrent, kekVersion: this.wrapper.currentVersion };
  }

  /**
   * Gives every customer still sealed with the tenant's field subkey a key of its own, `batchSize`
   * rows per transaction (locked, sealed again, written with their keys), until none is left
   * or `signal` aborts (what is committed stays: a later run continues from there).
   */
  async upgradeCustomers(options: { batchSize: number; signal?: AbortSignal }): Promise<CustomerKeyUpgrade> {
    const keys = await this.currentTenantKeys(await this.labelOf(RequestContextStore.requireTenant()));
    let upgraded = 0;
    for (;;) {
      options.signal?.throwIfAborted();
      const batch = await this.router.transaction(async (manager) => {
        const rows = await this.customers.lockSealedWithTenantKey(manager, options.batchSize);
        const sealed = rows.map((row) => resealWithOwnKey(keys, row));
        return { seen: rows.length, written: await this.customers.replaceSealedWithOwnKeys(manager, sealed) };
      });
      upgraded += batch.written;
      if (batch.seen < options.batchSize || batch.written === 0) break;
    }
    return { upgraded, remaining: await this.customers.countSealedWithTenantKey() };
  }

  /** 1 when key `id` is now wrapped by the current version (another run got there first). */
  private async changedMeanwhile(id: number): Promise<number> {
    const now = (await this.tenantKeys.findAll()).find((row) => row.id === id);
    if (now?.kekVersion === this.wrapper.currentVersion) return 1;
    throw SecureStoreException.keyRotationConflict(id);
  }

  private async currentTenantKeys(label: string): Promise<TenantKeys> {
    const row = await this.tenantKeys.findActive();
    if (!row) throw SecureStoreException.tenantKeyMissing();
    return deriveTenantKeys(label, row.id, this.wrapper.unwrap(label, row));
  }
}
