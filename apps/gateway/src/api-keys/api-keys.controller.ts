import { Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { RequestContextStore } from '#polystore/tenancy';
import { AdminGuard } from '../auth/admin.guard.js';
import { KeyArea } from '../auth/route-access.js';
import { TenantAuthGuard } from '../auth/tenant-auth.guard.js';
import { uuidParam } from '../common.pipes.js';
import { ApiAdminErrors, ApiBodyErrors, ApiErrors, ApiTenantErrors } from '../openapi/api-errors.decorator.js';
import type { CreateApiKeyBody, RotateApiKeyBody } from '#polystore/messaging';
import { BodyOf } from '../request-schema.decorator.js';
import { ApiKeyListDto, CreatedApiKeyDto } from './api-key.dto.js';
import { ApiKeysService } from './api-keys.service.js';

/** The tenant's own API keys; needs a key with scope `full`. */
@ApiTags('api-keys')
@ApiBearerAuth()
@ApiTenantErrors()
@UseGuards(TenantAuthGuard)
@KeyArea('api-keys')
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @ApiOperation({ operationId: 'createApiKey', summary: 'Create an API key (its secret is shown once)' })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  @ApiBodyErrors()
  create(@BodyOf('CreateApiKeyRequest') body: CreateApiKeyBody): Promise<CreatedApiKeyDto> {
    return this.keys.create(RequestContextStore.requireTenant(), body);
  }

  @Get()
  @ApiOperation({ operationId: 'listApiKeys', summary: "List the tenant's API keys" })
  @ApiOkResponse({ type: ApiKeyListDto, description: 'Keys not revoked (expired ones included); never secrets' })
  async list(): Promise<ApiKeyListDto> {
    return { items: await this.keys.list(RequestContextStore.requireTenant()) };
  }

  /** Revokes the key at once on every gateway; a key may revoke itself. */
  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ operationId: 'revokeApiKey', summary: 'Revoke an API key, at once on every gateway' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiErrors({ 404: 'API_KEY_NOT_FOUND: no live key with this id in this tenant' })
  revoke(@Param('id', uuidParam('id')) id: string): Promise<void> {
    return this.keys.revoke(RequestContextStore.requireTenant(), id);
  }

  /** A new key with the same name, scopes and expiry; the old one works `overlapSeconds` more. */
  @Post(':id/rotate')
  @ApiOperation({
    operationId: 'rotateApiKey',
    summary: 'Replace an API key by a new one; the old one works a while longer',
  })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  @ApiErrors({ 404: 'API_KEY_NOT_FOUND: unknown, revoked, expired or already rotated' })
  @ApiBodyErrors()
  rotate(
    @Param('id', uuidParam('id')) id: string,
    @BodyOf('RotateApiKeyRequest') body: RotateApiKeyBody,
  ): Promise<CreatedApiKeyDto> {
    return this.keys.rotate(RequestContextStore.requireTenant(), id, body);
  }
}

/** Any tenant's API keys, for operators (admin token). */
@ApiTags('admin')
@ApiBearerAuth()
@ApiAdminErrors()
@UseGuards(AdminGuard)
@Controller('admin/tenants/:slug/api-keys')
export class AdminApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @ApiOperation({ operationId: 'adminCreateApiKey', summary: 'Create an API key for a tenant' })
  @ApiCreatedResponse({ type: CreatedApiKeyDto, description: 'A new key for the tenant, shown once' })
  @ApiErrors({ 404: 'TENANT_NOT_FOUND' })
  @ApiBodyErrors()
  create(
    @Param('slug') slug: string,
    @BodyOf('CreateApiKeyRequest') body: CreateApiKeyBody,
  ): Promise<CreatedApiKeyDto> {
    return this.keys.create(slug, body);
  }

  @Get()
  @ApiOperation({ operationId: 'adminListApiKeys', summary: "List a tenant's API keys" })
  @ApiOkResponse({ type: ApiKeyListDto })
  @ApiErrors({ 404: 'TENANT_NOT_FOUND' })
  async list(@Param('slug') slug: string): Promise<ApiKeyListDto> {
    return { items: await this.keys.list(slug) };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ operationId: 'adminRevokeApiKey', summary: "Revoke a tenant's API key" })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiErrors({ 404: 'TENANT_NOT_FOUND, API_KEY_NOT_FOUND' })
  revoke(@Param('slug') slug: string, @Param('id', uuidParam('id')) id: string): Promise<void> {
    return this.keys.revoke(slug, id);
  }

  @Post(':id/rotate')
  @ApiOperation({ operationId: 'adminRotateApiKey', summary: "Replace a tenant's API key by a new one" })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  @ApiErrors({ 404: 'TENANT_NOT_FOUND, API_KEY_NOT_FOUND' })
  @ApiBodyErrors()
  rotate(
    @Param('slug') slug: string,
    @Param('id', uuidParam('id')) id: string,
    @BodyOf('RotateApiKeyRequest') body: RotateApiKeyBody,
  ): Promise<CreatedApiKeyDto> {
    return this.keys.rotate(slug, id, body);
  }
}
