import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { RequestContextStore } from '#polystore/tenancy';
import { AdminGuard } from '../auth/admin.guard.js';
import { KeyArea } from '../auth/route-access.js';
import { TenantAuthGuard } from '../auth/tenant-auth.guard.js';
import { uuidParam } from '../common.pipes.js';
import { ApiKeyListDto, CreateApiKeyDto, CreatedApiKeyDto, RotateApiKeyDto } from './api-key.dto.js';
import { ApiKeysService } from './api-keys.service.js';

/** The tenant's own API keys; needs a key with scope `full`. */
@ApiTags('api-keys')
@ApiBearerAuth()
@UseGuards(TenantAuthGuard)
@KeyArea('api-keys')
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  create(@Body() body: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    return this.keys.create(RequestContextStore.requireTenant(), body);
  }

  @Get()
  @ApiOkResponse({ type: ApiKeyListDto, description: 'Keys not revoked (expired ones included); never secrets' })
  async list(): Promise<ApiKeyListDto> {
    return { items: await this.keys.list(RequestContextStore.requireTenant()) };
  }

  /** Revokes the key at once on every gateway; a key may revoke itself. */
  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'API_KEY_NOT_FOUND: no live key with this id in this tenant' })
  revoke(@Param('id', uuidParam('id')) id: string): Promise<void> {
    return this.keys.revoke(RequestContextStore.requireTenant(), id);
  }

  /** A new key with the same name, scopes and expiry; the old one works `overlapSeconds` more. */
  @Post(':id/rotate')
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  @ApiNotFoundResponse({ description: 'API_KEY_NOT_FOUND: unknown, revoked, expired or already rotated' })
  rotate(@Param('id', uuidParam('id')) id: string, @Body() body: RotateApiKeyDto): Promise<CreatedApiKeyDto> {
    return this.keys.rotate(RequestContextStore.requireTenant(), id, body);
  }
}

/** Any tenant's API keys, for operators (admin token). */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('admin/tenants/:slug/api-keys')
export class AdminApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @ApiCreatedResponse({ type: CreatedApiKeyDto, description: 'A new key for the tenant, shown once' })
  create(@Param('slug') slug: string, @Body() body: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    return this.keys.create(slug, body);
  }

  @Get()
  @ApiOkResponse({ type: ApiKeyListDto })
  async list(@Param('slug') slug: string): Promise<ApiKeyListDto> {
    return { items: await this.keys.list(slug) };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  revoke(@Param('slug') slug: string, @Param('id', uuidParam('id')) id: string): Promise<void> {
    return this.keys.revoke(slug, id);
  }

  @Post(':id/rotate')
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  rotate(
    @Param('slug') slug: string,
    @Param('id', uuidParam('id')) id: string,
    @Body() body: RotateApiKeyDto,
  ): Promise<CreatedApiKeyDto> {
    return this.keys.rotate(slug, id, body);
  }
}
