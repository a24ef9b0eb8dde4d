import {
  type CatalogAdminService,
  CatalogErrorCode,
  type CatalogService,
  type PlacementSpec,
} from '#polystore/catalog';
import type { MessageClient } from '#polystore/messaging';
import { defineSaga, type StepDefinition } from '#polystore/saga';
import { parseTenantSlug } from '#polystore/tenancy';
import type { StoreEntry } from '../stores/store-directory.js';

export interface TenantProvisioningInput {
  /** Chosen before the saga starts, so every step (and compensation) touches only this tenant. */
  readonly tenantId: string;
  readonly slug: string;
  readonly name: string;
  readonly placements: readonly PlacementSpec[];
  /** With an `Idempotency-Key`: the digest of the request, so a retry with another body is refused. */
  readonly requestHash?: string;
}

/**
 * Registers the tenant in the catalog (`provisioning`; with the own login and database of each
 * PostgreSQL placement that gets one), has every store create and migrate its database (in
 * parallel), then activates it. Compensation, in reverse: each store's database is
 * dropped (the tenant is marked `deleting` first, so a late provisioning request is refused by
 * the store), then the catalog entry of this tenant id is removed (with the placements' own logins).
 */
export function tenantProvisioningSaga(
  deps: { admin: CatalogAdminService; catalog: CatalogService; messages: MessageClient; stores: readonly StoreEntry[] },
  provisionTimeoutMs: number,
) {
  const slugOf = (input: TenantProvisioningInput) => parseTenantSlug(input.slug);
  const ours = async (input: TenantProvisioningInput) =>
    (await deps.catalog.findTenantFresh(slugOf(input)))?.id === input.tenantId;

  const register: StepDefinition<TenantProvisioningInput> = {
    name: 'register',
    retry: { maxAttempts: 4 },
    action: async ({ input }) => {
      try {
        await deps.admin.createTenant({
          id: input.tenantId,
          slug: slugOf(input),
          name: input.name,
          placements: input.placements,
        });
      } catch (error) {
        // A retry after an unseen commit finds our own row: that is success, not a conflict, once
        // the placements' own logins (made after that commit) are made sure of.
        if ((error as { code?: string }).code !== CatalogErrorCode.TENANT_EXISTS || !(await ours(input))) throw error;
        await deps.admin.ensurePlacementLogins(input.tenantId);
      }
      return { tenantId: input.tenantId };
    },
    compensation: async ({ input }) => {
      await deps.admin.deleteTenantById(input.tenantId, slugOf(input));
    },
  };

  const databases: Array<StepDefinition<TenantProvisioningInput>> = deps.stores.map((store) => ({
    name: `${store.store}-database`,
    timeoutMs: provisionTimeoutMs,
    retry: { maxAttempts: 3 },
    action: ({ input }) => {
      void input;
      return deps.messages.request(store.provision, {});
    },
    compensation: async ({ input }) => {
      if (await ours(input)) await deps.admin.setStatus(slugOf(input), 'deleting');
      await deps.messages.request(store.drop, {});
    },
  }));

  const activate: StepDefinition<TenantProvisioningInput> = {
    name: 'activate',
    retry: { maxAttempts: 5 },
    action: async ({ input }) => {
      await deps.admin.setStatus(slugOf(input), 'active');
      return { active: true };
    },
  };

  return defineSaga<TenantProvisioningInput>({
    name: 'tenant-provisioning',
    version: 1,
    deadlineMs: provisionTimeoutMs * 2,
    locks: (input) => [`tenant:${input.slug}`],
    steps: [register, databases, activate],
  });
}
