import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Events, MessageClient } from '#polystore/messaging';
import type { TenantSlug } from '#polystore/tenancy';
import { parseServerUrl } from '#polystore/data-router';
import type { Subscription } from '@nats-io/transport-node';
import { DataSource } from 'typeorm';
import type { ApiKeyScope } from './api-key-scope.js';
import { hashPresentedApiKey } from './api-key.util.js';
import { CatalogException } from './catalog.exception.js';
import type { ApiKeyPrincipal, TenantRecord } from './catalog.records.js';
import { CATALOG_OPTIONS, SYSTEM_DATA_SOURCE, type CatalogOptions } from './catalog.tokens.js';
import { ApiKeyEntity } from './entities/api-key.entity.js';
import { PlacementEntity } from './entities/placement.entity.js';
import { TenantEntity } from './entities/tenant.entity.js';
import { catalogCache } from './internal/catalog-cache.js';
import type { TtlCache } from './internal/ttl-cache.js';
import { joinServerUrl, ServerSecretBox, type Placement } from './placement.js';
import type { StoreName } from './store-name.js';

/**
 * Read side of the catalog, used by every process: tenants, placements and API keys, cached.
 *
 * Staleness is bounded twice: a `catalog.tenant.changed` event (published by every write)
 * drops a tenant's entries in every process at once, and the TTL bounds what a lost event
 * can leave behind. "Not found" is cached briefly so hostile hosts cannot hammer the database,
 * apart from the found entries (a flood of misses evicts none of them). While the database cannot
 * be read, found entries are served up to `staleWindowMs` past their TTL (events still drop them).
 */
@Injectable()
export class CatalogService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(CatalogService.name);
  private readonly tenants: TtlCache<string, TenantRecord | null>;
  private readonly placements: TtlCache<string, Placement | null>;
  private readonly apiKeys: TtlCache<string, ApiKeyPrincipal | null>;
  private readonly secrets: ServerSecretBox;
  private readonly listeners = new Set<(tenant: TenantSlug) => void>();
  private subscription?: Subscription;

  constructor(
    @Inject(SYSTEM_DATA_SOURCE) private readonly db: DataSource,
    @Inject(CATALOG_OPTIONS) private readonly options: CatalogOptions,
    private readonly messages: MessageClient,
  ) {
    this.tenants = catalogCache('tenant', options, this.logger);
    this.placements = catalogCache('placement', options, this.logger);
    this.apiKeys = catalogCache('api_key', options, this.logger);
    this.secrets = new ServerSecretBox(options.keys);
  }

  onModuleInit(): void {
    this.subscription = this.messages.subscribe(Events.catalog.tenantChanged, ({ tenant }) =>
      this.invalidate(tenant as TenantSlug),
    );
  }

  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  /** The tenant with this slug, whatever its status, or null. */
  findTenant(slug: TenantSlug): Promise<TenantRecord | null> {
    return this.tenants.get(slug, async () => {
      const row = await this.db.getRepository(TenantEntity).findOneBy({ slug });
      return row ? toTenantRecord(row) : null;
    });
  }

  /** The tenant read from the database now, bypassing the cache (provisioning decisions). */
  async findTenantFresh(slug: TenantSlug): Promise<TenantRecord | null> {
    this.tenants.delete(slug);
    return this.findTenant(slug);
  }

  /** The tenant, if it exists and is active; `TENANT_NOT_FOUND` otherwise (also while provisioning). */
  async requireActiveTenant(slug: TenantSlug): Promise<TenantRecord> {
    const tenant = await this.findTenant(slug);
    if (!tenant || tenant.status !== 'active') throw CatalogException.tenantNotFound(slug);
    return tenant;
  }

  /** The tenant's placement for `store` (cached); `TENANT_NOT_FOUND`/`PLACEMENT_NOT_FOUND` otherwise. */
  async getPlacement(tenant: TenantSlug, store: StoreName): Promise<Placement> {
    const placement = await this.placements.get(`${tenant}/${store}`, () => this.loadPlacement(tenant, store));
    if (!placement) throw CatalogException.placementNotFound(tenant, store);
    return placement;
  }

  /** The placement read from the database now, bypassing the cache (provisioning, moves). */
  async getPlacementFresh(tenant: TenantSlug, store: StoreName): Promise<Placement> {
    this.placements.delete(`${tenant}/${store}`);
    return this.getPlacement(tenant, store);
  }

  /**
   * Who holds `presentedKey`, or null when it is unknown, revoked, expired, malformed, or its
   * tenant is not active. Callers decide what a key of another tenant means, and what its scopes
   * allow. The expiry is checked on every call, so a cached key never outlives it.
   */
  async authenticate(presentedKey: string): Promise<ApiKeyPrincipal | null> {
    const hash = hashPresentedApiKey(presentedKey);
    if (!hash) return null;
    const principal = await this.apiKeys.get(hash.toString('base64'), async () => {
      const row = await this.db
        .getRepository(ApiKeyEntity)
        .createQueryBuilder('k')
        .innerJoin(TenantEntity, 't', 't.id = k.tenant_id')
        .select([
          'k.id AS id',
          'k.scopes AS scopes',
          'k.expires_at AS expires_at',
          't.slug AS slug',
          't.status AS status',
        ])
        .where('k.key_hash = :hash AND k.revoked_at IS NULL', { hash })
        .getRawOne<{ id: string; scopes: ApiKeyScope[]; expires_at: Date | null; slug: string; status: string }>();
      if (!row || row.status !== 'active') return null;
      return { keyId: row.id, tenant: row.slug as TenantSlug, scopes: row.scopes, expiresAt: row.expires_at };
    });
    if (principal?.expiresAt && principal.expiresAt.getTime() <= Date.now()) return null;
    return principal;
  }

  /**
   * Drops what this process caches about `tenant` and tells every other process to do the same
   * (`catalog.tenant.changed`). Writers call it after their change is committed.
   */
  announceTenantChanged(tenant: TenantSlug): void {
    this.invalidate(tenant);
    this.messages.publish(Events.catalog.tenantChanged, { tenant });
  }

  /** Drops everything cached about `tenant` in this process and tells local listeners. */
  invalidate(tenant: TenantSlug): void {
    this.tenants.delete(tenant);
    this.placements.deleteWhere((key) => key.startsWith(`${tenant}/`));
    // Keys are cached by hash; a tenant change is rare enough to forget them all.
    this.apiKeys.clear();
    for (const listener of this.listeners) {
      try {
        listener(tenant);
      } catch (error) {
        this.logger.error(`tenant-changed listener failed: ${(error as Error).message}`);
      }
    }
  }

  /** Calls `listener` whenever a tenant changes (in any process); returns an unsubscribe function. */
  onTenantChanged(listener: (tenant: TenantSlug) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async loadPlacement(tenant: TenantSlug, store: StoreName): Promise<Placement | null> {
    const row = await this.db
      .getRepository(PlacementEntity)
      .createQueryBuilder('p')
      .innerJoin(TenantEntity, 't', 't.id = p.tenant_id')
      .where('t.slug = :tenant AND p.store = :store', { tenant, store })
      .getOne();
    if (!row) return null;
    const password = row.serverSecret
      ? this.secrets.open(row.serverSecret, row.tenantId, row.store)
      : this.secrets.derivedLoginPassword(row.store, row.serverUrl);
    const serverUrl = joinServerUrl(row.serverUrl, password);
    return {
      tenant,
      store,
      serverUrl,
      serverId: parseServerUrl(serverUrl).id,
      database: row.databaseName,
      kind: row.kind,
      ...(row.schemaName ? { schema: row.schemaName } : {}),
      version: row.version,
    };
  }
}

function toTenantRecord(row: TenantEntity): TenantRecord {
  return {
    id: row.id,
    slug: row.slug as TenantSlug,
    name: row.name,
    status: row.status,
    version: row.version,
    createdAt: row.createdAt,
    keyLabel: row.keyLabel,
  };
}
