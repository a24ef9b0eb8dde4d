import type { CatalogService } from '#polystore/catalog';
import type { TenantJob } from '#polystore/jobs';
import type { MasterKeyring } from '#polystore/platform';
import {
  keyLabelOf,
  SecureKeyMaintenance,
  type CustomerKeyUpgrade,
  type TenantKeyRewrap,
} from '../../../secure-store/src/index.js';
import { fleetRouter } from '../fleet-router.js';

/** What the `keys` commands do to each tenant's secure data. */
export type KeyTask = 'rotate' | 'upgrade-customers';

export interface KeyJobOptions {
  readonly task: KeyTask;
  readonly concurrency: number;
  readonly tenantTimeoutMs: number;
  /** Customer rows sealed again per transaction (`upgrade-customers`). */
  readonly batchSize: number;
}

/** One tenant's result: its tenant keys rewrapped, or its customers given keys of their own. */
export type KeyJobResult = TenantKeyRewrap | CustomerKeyUpgrade;

/**
 * The `keys` commands as a tenant job (resumable through the job run log, like `migrate`): each
 * tenant's secure placement reached directly from the catalog, the secure store's own key
 * maintenance run there (`SecureKeyMaintenance`, compare-and-set and row locks, so the stores keep
 * serving meanwhile). One DataSource of one connection per tenant at a time, closed once the
 * tenant is done.
 */
export function keyMaintenanceJob(
  catalog: CatalogService,
  masterKeyring: MasterKeyring,
  options: KeyJobOptions,
): TenantJob<KeyJobResult> & { close(): Promise<void> } {
  const router = fleetRouter(catalog, 'secure', { name: `keys:${options.task}`, ...options });
  const maintenance = new SecureKeyMaintenance(router, masterKeyring, (tenant) => keyLabelOf(catalog, tenant));
  return {
    name: `keys-${options.task}`,
    description:
      options.task === 'rotate'
        ? "wraps every tenant's data key under the current master key version"
        : 'gives every customer sealed with its tenant field key a key of its own',
    intervalMs: 0,
    tenantTimeoutMs: options.tenantTimeoutMs,
    concurrency: options.concurrency,
    async run(tenant, { signal }) {
      try {
        return options.task === 'rotate'
          ? await maintenance.rewrapTenantKeys()
          : await maintenance.upgradeCustomers({ batchSize: options.batchSize, signal });
      } finally {
        await router.releaseTenant(tenant);
      }
    },
    async close() {
      await router.close();
    },
  };
}
