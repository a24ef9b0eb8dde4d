import { Injectable } from '@nestjs/common';
import { ApiKeyAdminService, type ApiKeyView, type IssuedApiKeyView } from '#polystore/catalog';
import { parseTenantSlug } from '#polystore/tenancy';
import { GatewayException } from '../gateway.exception.js';
import type { CreateApiKeyBody, RotateApiKeyBody } from '#polystore/messaging';
import type { ApiKeyDto, CreatedApiKeyDto } from './api-key.dto.js';

const DEFAULT_OVERLAP_S = 3_600;

/**
 * API keys of one tenant, named by its slug: the tenant's own routes (`/v1/api-keys`, the slug
 * from its verified principal) and the admin API (`/admin/tenants/:slug/api-keys`) share it.
 */
@Injectable()
export class ApiKeysService {
  constructor(private readonly keys: ApiKeyAdminService) {}

  async create(slug: string, body: CreateApiKeyBody): Promise<CreatedApiKeyDto> {
    const expiresAt = body.expiresAt === undefined ? null : new Date(body.expiresAt);
    if (expiresAt && expiresAt.getTime() <= Date.now())
      throw GatewayException.validation(['expiresAt must be in the future']);
    return issuedDto(
      await this.keys.issue(parseTenantSlug(slug), {
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(body.scopes ? { scopes: body.scopes } : {}),
        expiresAt,
      }),
    );
  }

  async list(slug: string): Promise<ApiKeyDto[]> {
    return (await this.keys.list(parseTenantSlug(slug))).map(dtoOf);
  }

  revoke(slug: string, keyId: string): Promise<void> {
    return this.keys.revoke(parseTenantSlug(slug), keyId);
  }

  async rotate(slug: string, keyId: string, body: RotateApiKeyBody): Promise<CreatedApiKeyDto> {
    const overlapMs = (body.overlapSeconds ?? DEFAULT_OVERLAP_S) * 1_000;
    return issuedDto(await this.keys.rotate(parseTenantSlug(slug), keyId, overlapMs));
  }
}

function dtoOf(key: ApiKeyView): ApiKeyDto {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    scopes: [...key.scopes],
    createdAt: key.createdAt.toISOString(),
    expiresAt: key.expiresAt?.toISOString() ?? null,
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
    replacedBy: key.replacedBy,
  };
}

function issuedDto(key: IssuedApiKeyView): CreatedApiKeyDto {
  return { ...dtoOf(key), apiKey: key.secret };
}
