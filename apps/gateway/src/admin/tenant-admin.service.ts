import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  CatalogAdminService,
  CatalogException,
  CatalogService,
  defaultPlacementKind,
  placementNames,
  splitServerUrl,
  type PlacementSpec,
} from '#polystore/catalog';
import { parseServerUrl, type PlacementKind } from '#polystore/data-router';
import { IdempotencyException, requestFingerprint } from '#polystore/idempotency';
import { MessageClient } from '#polystore/messaging';
import { sha256 } from '#polystore/platform';
import { SagaOrchestrator } from '#polystore/saga';
import { parseTenantSlug, runAsTenant, type TenantSlug } from '#polystore/tenancy';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';
import { SagaRegistry } from '../sagas/saga-registry.service.js';
import { sagaFailure, stillRunning, succeeded, UNTIL_DECIDED, uuidFrom } from '../sagas/saga-outcome.util.js';
import type { TenantProvisioningInput } from '../sagas/tenant-provisioning.saga.js';
import { StoreDirectory } from '../stores/store-directory.js';
import type { TenantDto } from './tenant.dto.js';

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
      await this.orchestrator.start(this.sagas.tenantProvisioning, input, { tenant: slug, id: sagaId });
    }
    const saga = await this.orchestrator.waitFor(sagaId, this.config.PROVISION_TIMEOUT_MS, UNTIL_DECIDED);
    if (stillRunning(saga)) return { done: false, slug, sagaId };
    if (!succeeded(saga)) throw sagaFailure(saga);
    // One answer shows the tenant's first key; a replay of the key gets the tenant without it.
    if (!(await this.orchestrator.claimOutputFlag(sagaId, 'apiKeyIssued'))) return { done: true, slug, sagaId };
    const key = await this.admin.issueApiKey(slug);
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
      const serverUrl = choice?.server ?? s.defaultServerUrl;
      const dialect = parseServerUrl(splitServerUrl(serverUrl).serverUrl).dialect;
      if (!s.dialects.includes(dialect))
        throw CatalogException.invalidPlacement(`the ${s.store} store runs on ${s.dialects.join(', ')} servers`);
      const kind = choice?.kind ?? (choice?.server ? defaultPlacementKind(serverUrl) : s.defaultKind);
      if (kind === 'schema' && dialect !== 'postgres')
        throw CatalogException.invalidPlacement(`a schema placement needs a PostgreSQL server (${s.store})`);
      return { store: s.store, serverUrl, kind, ...placementNames(s.store, tenantId, kind) };
    });
  }

  /** A new API key for an active tenant (e.g. one whose creation finished in the background). */
  async issueKey(slugInput: string): Promise<{ slug: string; apiKey: string }> {
    const slug = parseTenantSlug(slugInput);
    await this.catalog.requireActiveTenant(slug);
    return { slug, apiKey: (await this.admin.issueApiKey(slug)).secret };
  }

  async list(): Promise<TenantDto[]> {
    const tenants = await this.admin.listTenants();
    return tenants.map((t) => ({
      slug: t.slug,
      name: t.name,
      status: t.status,
      createdAt: t.createdAt.toISOString(),
      placements: t.placements.map((p) => ({ ...p })),
    }));
  }

  /** Drops the tenant's databases in every store, then its catalog entry. Retry-safe. */
  async delete(slugInput: string): Promise<void> {
    const slug = parseTenantSlug(slugInput);
    if (!(await this.catalog.findTenantFresh(slug))) throw CatalogException.tenantNotFound(slug);
    await this.admin.setStatus(slug, 'deleting');
    for (const store of [...this.directory.stores].reverse())
      await this.asTenant(slug, () => this.messages.request(store.drop, {}));
    await this.admin.deleteTenant(slug);
    this.logger.log({ tenant: slug }, 'tenant deleted');
  }

  private asTenant<T>(slug: TenantSlug, work: () => Promise<T>): Promise<T> {
    return runAsTenant(slug, work, this.config.PROVISION_TIMEOUT_MS);
  }
}
