import { Body, Controller, Delete, Get, HttpCode, Param, Post, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { AdminGuard } from '../auth/admin.guard.js';
import { IDEMPOTENCY_KEY_DOC, IdempotencyKey } from '../common.pipes.js';
import { CreatedTenantDto, CreateTenantDto, TenantListDto } from './tenant.dto.js';
import { TenantAdminService } from './tenant-admin.service.js';

/** Tenant administration, on the base domain with the admin token. */
@ApiTags('admin')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('admin/tenants')
export class TenantAdminController {
  constructor(private readonly tenants: TenantAdminService) {}

  @Post()
  @ApiCreatedResponse({ type: CreatedTenantDto, description: 'Databases exist and are migrated in every store' })
  @ApiAcceptedResponse({
    description: 'Still provisioning: follow GET /admin/sagas, then POST /admin/tenants/:slug/api-keys',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: `${IDEMPOTENCY_KEY_DOC}; the API key is shown only to the first answer`,
  })
  @ApiConflictResponse({ description: 'TENANT_EXISTS, or IDEMPOTENCY_MISMATCH: the key was used with another body' })
  async create(
    @Body() body: CreateTenantDto,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CreatedTenantDto | { slug: string; sagaId: string; statusUrl: string }> {
    const created = await this.tenants.create(body.slug, body.name, body.placements ?? [], idempotencyKey);
    void reply.status(created.done ? 201 : 202);
    if (!created.done) {
      const statusUrl = `/admin/sagas/${created.sagaId}`;
      void reply.header('location', statusUrl);
      return { slug: created.slug, sagaId: created.sagaId, statusUrl };
    }
    return { slug: created.slug, ...(created.apiKey ? { apiKey: created.apiKey } : {}) };
  }

  @Post(':slug/api-keys')
  @ApiCreatedResponse({ type: CreatedTenantDto, description: 'A new key for the tenant, shown once' })
  issueKey(@Param('slug') slug: string): Promise<CreatedTenantDto> {
    return this.tenants.issueKey(slug);
  }

  @Get()
  @ApiOkResponse({ type: TenantListDto })
  async list(): Promise<TenantListDto> {
    return { items: await this.tenants.list() };
  }

  @Delete(':slug')
  @HttpCode(204)
  @ApiNoContentResponse()
  async delete(@Param('slug') slug: string): Promise<void> {
    await this.tenants.delete(slug);
  }
}
