import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  ApiKeyAdminService,
  TenantRetirementService,
  type RetiredTenant,
  CatalogAdminService,
  CatalogException,
  CatalogService,
  defaultPlacementKind,
  isStoreRuntimeLogin,
  placementNames,
  splitServerUrl,
  type PlacementSpec,
} from '#polystore/catalog';
import { parseServerUrl, type PlacementKind } from '#polystore/data-router';
import { IdempotencyException, requestFingerprint } from '#polystore/idempotency';
import { Contracts, MessageClient } from '#polystore/messaging';
import { CrashPoints, sha256 } from '#polystore/platform';
import { SagaOrchestrator } from '#polystore/saga';
import { parseTenantSlug, runAsTenant, type TenantSlug } from '#polystore/tenancy';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';
import { SagaRegistry } from '../sagas/saga-registry.service.js';
import { sagaFailure, stillRunning, succeeded, UNTIL_DECIDED, uuidFrom } from '../sagas/saga-outcome.util.js';
import type { TenantProvisioningInput } from '../sagas/tenant-provisioning.saga.js';
import { StoreDirectory } from '../stores/store-directory.js';
import type { TenantDto } from './tenant.dto.js';

/** Crash point (tests): a grace-period deletion after the tenant stopped being served, before the catalog retires it. */
export const TENANT_DELETE_AFTER_REVOKE = 'gateway.tenants.delete.after-revoke';

/** Where one store places a new tenant, as the operator asked. */
export interface PlacementChoice {
  readonly store: string;
  readonly kind?: PlacementKind;
  readonly server?: string;
}

/** Creating a tenant: done (with its key), or still provisioning in the background. */
export type TenantCreation =
  { done: true; slug: string; apiKey?: string; sagaId: string } | { done: false; slug: string; sagaId: string };

/**
 * Tenant lifecycle. Creation is the tenant-provisioning saga (catalog entry, one database per
 * store, activation; compensated by dropping what was created), so it completes or is undone even
 * if this gateway crashes; the API key is issued once the saga succeeded, and shown once.
 */
@Injectable()
export class TenantAdminService {
  private readonly logger = new Logger(TenantAdminService.name);

  constructor(
    private readonly catalog: CatalogService,
    private readonly admin: CatalogAdminService,
    private readonly keys: ApiKeyAdminService,
    private readonly retirement: TenantRetirementService,
    private readonly messages: MessageClient,
    private readonly directory: StoreDirectory,
    private readonly orchestrator: SagaOrchestrator,
    private readonly sagas: SagaRegistry,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /**
   * Creates a tenant (the provisioning saga). With an `Idempotency-Key`, the saga's id derives
   * from it: a retry with the same key and body joins the same saga and gets its outcome (201,
   * the API key shown only to the first answer after success; 202 while it runs; its final error
   * once it failed), another body `IDEMPOTENCY_MISMATCH`.
   */
  async create(
    slugInput: string,
    name: string,
    choices: readonly PlacementChoice[] = [],
    idempotencyKey?: string,
  ): Promise<TenantCreation> {
    const slug = parseTenantSlug(slugInput);
    const requestHash = idempotencyKey ? requestFingerprint('tenants.create', { slug, name, choices }) : undefined;
    const sagaId = idempotencyKey ? uuidFrom(`tenant-provisioning:saga:${idempotencyKey}`, sha256) : randomUUID();
    const earlier = idempotencyKey ? await this.orchestrator.find(sagaId) : null;
    if (earlier && (earlier.input as TenantProvisioningInput).requestHash !== requestHash)
      throw IdempotencyException.mismatch();
    if (!earlier) {
      const tenantId = randomUUID();
      const placements = this.placementsFor(tenantId, choices);
      if (await this.catalog.findTenantFresh(slug)) throw CatalogException.tenantExists(slug);
      const input: TenantProvisioningInput = {
        tenantId,
        slug,
        name,
        placements,
        ...(requestHash ? { requestHash } : {}),
      };
      await this.orchestrator.start(this.sagas.tenantProvisioning, input, { tenant: slug, tenantId, id: sagaId });
    }
    const saga = await this.orchestrator.waitFor(sagaId, this.config.PROVISION_TIMEOUT_MS, UNTIL_DECIDED);
    if (stillRunning(saga)) return { done: false, slug, sagaId };
    if (!succeeded(saga)) throw sagaFailure(saga);
    // One answer shows the tenant's first key; a replay of the key gets the tenant without it.
    if (!(await this.orchestrator.claimOutputFlag(sagaId, 'apiKeyIssued'))) return { done: true, slug, sagaId };
    const key = await this.keys.issue(slug, { name: 'initial' });
    this.logger.log({ tenant: slug, sagaId }, 'tenant created');
    return { done: true, slug, apiKey: key.secret, sagaId };
  }

  /**
   * One placement per store this deployment runs: the operator's choice where given, else the
   * store's default server and kind. Names derive from the tenant's id, never from its slug.
   */
  private placementsFor(tenantId: string, choices: readonly PlacementChoice[]): PlacementSpec[] {
    const runs = new Set<string>(this.directory.stores.map((s) => s.store));
    const seen = new Set<string>();
    for (const choice of choices) {
      if (!runs.has(choice.store))
        throw CatalogException.invalidPlacement(`store ${choice.store} does not run in this deployment`);
      if (seen.has(choice.store)) throw CatalogException.invalidPlacement(`store ${choice.store} is named twice`);
      seen.add(choice.store);
    }
    return this.directory.stores.map((s) => {
      const choice = choices.find((c) => c.store === s.store);
      if (choice?.kind === 'dedicated' && !choice.server)
        throw CatalogException.invalidPlacement(`a dedicated ${s.store} placement needs its server`);
      const given = choice?.server ?? s.defaultServerUrl;
      const dialect = parseServerUrl(splitServerUrl(given).serverUrl).dialect;
      if (!s.dialects.includes(dialect))
        throw CatalogException.invalidPlacement(`the ${s.store} store runs on ${s.dialects.join(', ')} servers`);
      const kind = choice?.kind ?? (choice?.server ? defaultPlacementKind(given) : s.defaultKind);
      const serverUrl = this.provisioningUrlFor(given, kind);
      if (kind === 'schema' && dialect !== 'postgres')
        throw CatalogException.invalidPlacement(`a schema placement needs a PostgreSQL server (${s.store})`);
      // The spec goes into the saga log: its password, if any, sealed with the store's key.
      return this.admin.sealedSpec(tenantId, {
        store: s.store,
        serverUrl,
        kind,
        ...placementNames(s.store, tenantId, kind),
      });
    });
  }

  /**
   * A database of its own on a server whose URL names a store's runtime login (which makes
   * schemas only) is made with the provisioning login of that server (`PROVISIONER_URLS`), when
   * the gateway has it; otherwise the URL as given (the catalog refuses it, naming the reason).
   */
  private provisioningUrlFor(serverUrl: string, kind: PlacementKind): string {
    const address = parseServerUrl(serverUrl);
    if (address.dialect !== 'postgres' || kind === 'schema' || !isStoreRuntimeLogin(address.username)) return serverUrl;
    return (this.config.PROVISIONER_URLS ?? []).find((url) => parseServerUrl(url).id === address.id) ?? serverUrl;
  }

  async list(): Promise<TenantDto[]> {
    const tenants = await this.admin.listTenants();
    return tenants.map((t) => ({
      slug: t.slug,
      name: t.name,
      status: t.status,
      createdAt: t.createdAt.toISOString(),
      ...(t.status === 'deleted'
        ? { id: t.id, formerSlug: t.formerSlug!, purgeAfter: t.purgeAfter!.toISOString() }
        : {}),
      placements: t.placements.map((p) => ({ ...p })),
    }));
  }

  /**
   * Deletes a tenant. With a grace period (`TENANT_DELETION_GRACE_MS` > 0) it stops being served,
   * its API keys and device credentials are revoked, its slug is free at once, and its data is
   * kept, restorable, until the purge; without one, its data is destroyed now (null). A DELETE
   * retried after a crash midway finds the tenant `deleting` and finishes.
   */
  async delete(slugInput: string): Promise<RetiredTenant | null> {
    const slug = parseTenantSlug(slugInput);
    const record = await this.catalog.findTenantFresh(slug);
    // A deleted tenant is reached by its id (restore, purge), never by the slug it was moved to.
    if (!record || record.status === 'deleted') throw CatalogException.tenantNotFound(slug);
    await this.admin.setStatus(slug, 'deleting');
    if (this.config.TENANT_DELETION_GRACE_MS === 0) {
      await this.dropEverywhere(slug);
      await this.admin.deleteTenantById(record.id, slug);
      this.logger.log({ tenant: slug, tenantId: record.id }, 'tenant deleted');
      return null;
    }
    if (this.directory.stores.some((s) => s.store === 'edge'))
      await this.asTenant(slug, () => this.messages.request(Contracts.edge.tenants.revokeDevices, {}));
    CrashPoints.hit(TENANT_DELETE_AFTER_REVOKE);
    const retired = await this.retirement.retire(slug, new Date(Date.now() + this.config.TENANT_DELETION_GRACE_MS));
    this.logger.log(
      { tenant: slug, tenantId: retired.id, purgeAfter: retired.purgeAfter },
      'tenant deleted (kept until its purge)',
    );
    return retired;
  }

  /**
   * Brings back a tenant deleted with a grace period, under its former slug or `slugInput`, with
   * a new API key (the old ones were revoked for good); its devices need new credentials.
   */
  async restore(id: string, slugInput?: string): Promise<{ slug: string; apiKey: string }> {
    const slug = await this.retirement.restore(id, slugInput === undefined ? undefined : parseTenantSlug(slugInput));
    const key = await this.keys.issue(slug, { name: 'restored' });
    this.logger.log({ tenant: slug, tenantId: id }, 'tenant restored');
    return { slug, apiKey: key.secret };
  }

  /** Destroys a deleted tenant's data now instead of at the end of its grace period. */
  async purgeNow(id: string): Promise<void> {
    await this.purge(await this.retirement.endGrace(id));
  }

  /** Destroys the data of the deleted tenants whose grace period is over (a few per call). */
  async purgeDue(limit = 10): Promise<number> {
    const due = await this.retirement.due(limit);
    for (const retired of due) await this.purge(retired);
    return due.length;
  }

  /** Drops the tenant's data in every store (idempotent, under each store's tenant lock), then its catalog entry. */
  private async purge(retired: RetiredTenant): Promise<void> {
    await this.dropEverywhere(retired.slug);
    await this.admin.deleteTenantById(retired.id, retired.slug);
    this.logger.log({ tenantId: retired.id, deletedAt: retired.deletedAt }, 'deleted tenant purged');
  }

  private async dropEverywhere(slug: TenantSlug): Promise<void> {
    for (const store of [...this.directory.stores].reverse())
      await this.asTenant(slug, () => this.messages.request(store.drop, {}));
  }

  private asTenant<T>(slug: TenantSlug, work: () => Promise<T>): Promise<T> {
    return runAsTenant(slug, work, this.config.PROVISION_TIMEOUT_MS);
  }
}
