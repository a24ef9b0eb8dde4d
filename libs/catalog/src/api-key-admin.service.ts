import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { TenantSlug } from '#polystore/tenancy';
import { DataSource, IsNull, type EntityManager } from 'typeorm';
import type { ApiKeyScope } from './api-key-scope.js';
import { issueApiKey } from './api-key.util.js';
import { CatalogException } from './catalog.exception.js';
import type { ApiKeyView, IssuedApiKeyView } from './catalog.records.js';
import { CatalogService } from './catalog.service.js';
import { SYSTEM_DATA_SOURCE } from './catalog.tokens.js';
import { ApiKeyEntity } from './entities/api-key.entity.js';
import { TenantEntity } from './entities/tenant.entity.js';

/** What a new key is: all optional (`default`, full scope, never expires). */
export interface ApiKeySpec {
  readonly name?: string;
  readonly scopes?: readonly ApiKeyScope[];
  readonly expiresAt?: Date | null;
}

/** A key as operators list it: its view, and when it was revoked (null: not revoked). */
export interface ApiKeyHistoryView extends ApiKeyView {
  readonly revokedAt: Date | null;
}

/**
 * API keys as a resource (gateway tenant and admin APIs, CLI): issue, list, revoke, rotate.
 * Secrets are returned once, at issue, and stored only hashed. Every revocation or rotation
 * is announced with `catalog.tenant.changed`, so each gateway drops its cached keys at once;
 * an expiry needs no event, as every check compares it with the clock.
 */
@Injectable()
export class ApiKeyAdminService {
  constructor(
    @Inject(SYSTEM_DATA_SOURCE) private readonly db: DataSource,
    private readonly catalog: CatalogService,
  ) {}

  /** A new key for the tenant; `TENANT_NOT_FOUND` if there is none with this slug. */
  issue(slug: TenantSlug, spec: ApiKeySpec = {}): Promise<IssuedApiKeyView> {
    return this.db.transaction(async (manager) => this.insert(manager, await this.tenantId(manager, slug), spec));
  }

  /** The tenant's keys that are not revoked (expired ones included, marked by `expiresAt`), oldest first. */
  async list(slug: TenantSlug): Promise<ApiKeyView[]> {
    const tenantId = await this.tenantId(this.db.manager, slug);
    const rows = await this.db.getRepository(ApiKeyEntity).find({
      where: { tenantId, revokedAt: IsNull() },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    return rows.map(viewOf);
  }

  /**
   * Every key of the tenant, revoked ones included (with when), oldest first: what operators see
   * in the console. Never a secret or a hash.
   */
  async history(slug: TenantSlug): Promise<ApiKeyHistoryView[]> {
    const tenantId = await this.tenantId(this.db.manager, slug);
    const rows = await this.db.getRepository(ApiKeyEntity).find({
      where: { tenantId },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    return rows.map((row) => ({ ...viewOf(row), revokedAt: row.revokedAt }));
  }

  /** Revokes one key of the tenant at once; `API_KEY_NOT_FOUND` if it has no such live key. */
  async revoke(slug: TenantSlug, keyId: string): Promise<void> {
    const result = await this.db
      .createQueryBuilder()
      .update(ApiKeyEntity)
      .set({ revokedAt: () => 'now()' })
      .where('id = :keyId AND revoked_at IS NULL', { keyId })
      .andWhere('tenant_id = (SELECT id FROM tenants WHERE slug = :slug)', { slug })
      .execute();
    if (!result.affected) throw CatalogException.apiKeyNotFound(keyId);
    this.catalog.announceTenantChanged(slug);
  }

  /**
   * Issues a key with the same name, scopes and expiry as `keyId`, and lets the old one work for
   * `overlapMs` more (or until its own expiry, if sooner), so clients can switch without a gap.
   * `API_KEY_NOT_FOUND` for a key that is unknown, revoked, expired or already rotated.
   */
  async rotate(slug: TenantSlug, keyId: string, overlapMs: number): Promise<IssuedApiKeyView> {
    const issued = await this.db.transaction(async (manager) => {
      const tenantId = await this.tenantId(manager, slug);
      const old = await manager.findOne(ApiKeyEntity, {
        where: { id: keyId, tenantId, revokedAt: IsNull(), replacedBy: IsNull() },
        lock: { mode: 'pessimistic_write' },
      });
      const now = Date.now();
      if (!old || (old.expiresAt && old.expiresAt.getTime() <= now)) throw CatalogException.apiKeyNotFound(keyId);
      const fresh = await this.insert(manager, tenantId, old);
      const overlapEnd = new Date(now + overlapMs);
      await manager.update(
        ApiKeyEntity,
        { id: old.id },
        { replacedBy: fresh.id, expiresAt: old.expiresAt && old.expiresAt < overlapEnd ? old.expiresAt : overlapEnd },
      );
      return fresh;
    });
    this.catalog.announceTenantChanged(slug);
    return issued;
  }

  /** Records that these keys were just used (one statement; callers batch it). */
  async recordUse(keyIds: readonly string[]): Promise<void> {
    if (keyIds.length === 0) return;
    await this.db
      .createQueryBuilder()
      .update(ApiKeyEntity)
      .set({ lastUsedAt: () => 'now()' })
      .where('id IN (:...keyIds)', { keyIds })
      .execute();
  }

  private async insert(manager: EntityManager, tenantId: string, spec: ApiKeySpec): Promise<IssuedApiKeyView> {
    const key = issueApiKey();
    const row = {
      id: randomUUID(),
      tenantId,
      keyHash: key.hash,
      prefix: key.prefix,
      name: spec.name ?? 'default',
      scopes: [...new Set<ApiKeyScope>(spec.scopes ?? ['full'])],
      expiresAt: spec.expiresAt ?? null,
      lastUsedAt: null,
      replacedBy: null,
      revokedAt: null,
    };
    await manager.insert(ApiKeyEntity, row);
    return { ...viewOf({ ...row, createdAt: new Date() }), secret: key.secret };
  }

  /**
   * The id of the tenant named `slug`. A deleted tenant (reached by its moved-aside slug) has no
   * keys to manage: a key issued then would start to work at its restore, which issues its own.
   */
  private async tenantId(manager: EntityManager, slug: TenantSlug): Promise<string> {
    const tenant = await manager.findOne(TenantEntity, { where: { slug }, select: { id: true, status: true } });
    if (!tenant || tenant.status === 'deleted') throw CatalogException.tenantNotFound(slug);
    return tenant.id;
  }
}

function viewOf(row: Omit<ApiKeyEntity, 'keyHash' | 'tenantId' | 'revokedAt'>): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes,
    createdAt: row.createdAt,
    expiresAt: row.expiresAt,
    lastUsedAt: row.lastUsedAt,
    replacedBy: row.replacedBy,
  };
}
