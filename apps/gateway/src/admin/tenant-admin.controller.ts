import { Controller, Delete, Get, HttpCode, Param, Post, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { AdminGuard } from '../auth/admin.guard.js';
import { ApiAdminErrors, ApiBodyErrors, ApiErrors } from '../openapi/api-errors.decorator.js';
import { IDEMPOTENCY_KEY_DOC, IdempotencyKey, uuidParam } from '../common.pipes.js';
import { CreatedTenantDto, DeletedTenantDto, ProvisioningTenantDto, TenantListDto } from './tenant.dto.js';
import type { CreateTenantBody } from '#polystore/messaging';
import { BodyOf } from '../request-schema.decorator.js';
import { TenantAdminService } from './tenant-admin.service.js';

/** Tenant administration, on the base domain with the admin token. */
@ApiTags('admin')
@ApiBearerAuth()
@ApiAdminErrors()
@UseGuards(AdminGuard)
@Controller('admin/tenants')
export class TenantAdminController {
  constructor(private readonly tenants: TenantAdminService) {}

  @Post()
  @ApiOperation({
    operationId: 'createTenant',
    summary: 'Create a tenant: its databases in every store, and its first API key',
  })
  @ApiCreatedResponse({ type: CreatedTenantDto, description: 'Databases exist and are migrated in every store' })
  @ApiAcceptedResponse({
    type: ProvisioningTenantDto,
    description: 'Still provisioning: follow GET /admin/sagas, then POST /admin/tenants/:slug/api-keys',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: `${IDEMPOTENCY_KEY_DOC}; the API key is shown only to the first answer`,
  })
  @ApiErrors({ 409: 'TENANT_EXISTS, or IDEMPOTENCY_MISMATCH: the key was used with another body' })
  @ApiBodyErrors()
  async create(
    @BodyOf('CreateTenantRequest') body: CreateTenantBody,
    @IdempotencyKey() idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CreatedTenantDto | ProvisioningTenantDto> {
    const created = await this.tenants.create(body.slug, body.name, body.placements ?? [], idempotencyKey);
    void reply.status(created.done ? 201 : 202);
    if (!created.done) {
      const statusUrl = `/admin/sagas/${created.sagaId}`;
      void reply.header('location', statusUrl);
      return { slug: created.slug, sagaId: created.sagaId, statusUrl };
    }
    return { slug: created.slug, ...(created.apiKey ? { apiKey: created.apiKey } : {}) };
  }

  @Get()
  @ApiOperation({
    operationId: 'listTenants',
    summary: 'List the tenants, deleted ones in their grace period included',
  })
  @ApiOkResponse({ type: TenantListDto })
  async list(): Promise<TenantListDto> {
    return { items: await this.tenants.list() };
  }

  /**
   * 200 `{id, formerSlug, purgeAfter}` when the tenant is kept for its grace period (restorable
   * by id until then); 204 when its data was destroyed at once (`TENANT_DELETION_GRACE_MS=0`).
   */
  @Delete(':slug')
  @ApiOperation({ operationId: 'deleteTenant', summary: 'Delete a tenant (restorable until its grace period ends)' })
  @ApiErrors({ 404: 'TENANT_NOT_FOUND' })
  @ApiOkResponse({ type: DeletedTenantDto, description: 'Deleted; data kept, restorable, until purgeAfter' })
  @ApiNoContentResponse({ description: 'Deleted and purged (no grace period configured)' })
  async delete(
    @Param('slug') slug: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<DeletedTenantDto | undefined> {
    const retired = await this.tenants.delete(slug);
    void reply.status(retired ? 200 : 204);
    if (!retired) return undefined;
    return { id: retired.id, formerSlug: retired.formerSlug, purgeAfter: retired.purgeAfter.toISOString() };
  }

  /** A deleted tenant back, within its grace period, with a new API key (shown once). */
  @Post(':id/restore')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'restoreTenant',
    summary: 'Restore a deleted tenant within its grace period, with a new API key',
  })
  @ApiOkResponse({ type: CreatedTenantDto })
  @ApiErrors({
    404: 'TENANT_NOT_FOUND: no deleted tenant with this id',
    409: 'TENANT_EXISTS: the slug is taken; give another one',
  })
  @ApiBodyErrors()
  restore(
    @Param('id', uuidParam('id')) id: string,
    @BodyOf('RestoreTenantRequest') body: { slug?: string | undefined },
  ): Promise<CreatedTenantDto> {
    return this.tenants.restore(id, body.slug);
  }

  /** Destroys a deleted tenant's data now; it can no longer be restored. */
  @Post(':id/purge')
  @HttpCode(204)
  @ApiOperation({ operationId: 'purgeTenant', summary: "Destroy a deleted tenant's data now" })
  @ApiErrors({ 404: 'TENANT_NOT_FOUND: no deleted tenant with this id' })
  @ApiNoContentResponse()
  purge(@Param('id', uuidParam('id')) id: string): Promise<void> {
    return this.tenants.purgeNow(id);
  }
}
