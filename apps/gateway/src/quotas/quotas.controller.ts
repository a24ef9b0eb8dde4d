import { Controller, Get, Param, Put, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminGuard } from '../auth/admin.guard.js';
import { TenantAuthGuard } from '../auth/tenant-auth.guard.js';
import { CurrentTenant } from '../context/current-tenant.service.js';
import { ApiAdminErrors, ApiBodyErrors, ApiErrors, ApiTenantErrors } from '../openapi/api-errors.decorator.js';
import type { PutQuotasBody } from '#polystore/messaging';
import { BodyOf } from '../request-schema.decorator.js';
import { QuotasDto } from './quota.dto.js';
import { QuotaService } from './quota.service.js';
import { TenantQuotasAdmin } from './tenant-quotas.admin.js';

/** The calling tenant's quotas and usage. */
@ApiTags('quotas')
@ApiBearerAuth()
@ApiTenantErrors()
@UseGuards(TenantAuthGuard)
@Controller('v1/quotas')
export class QuotasController {
  constructor(
    private readonly quotas: QuotaService,
    private readonly tenants: CurrentTenant,
  ) {}

  @Get()
  @ApiOperation({ operationId: 'getQuotas', summary: "The tenant's quotas and its usage against them" })
  @ApiOkResponse({ type: QuotasDto })
  async get(): Promise<QuotasDto> {
    return this.quotas.usage(await this.tenants.get());
  }
}

/** Any tenant's quotas, on the admin port with the admin token. */
@ApiTags('admin')
@ApiBearerAuth()
@ApiAdminErrors()
@UseGuards(AdminGuard)
@Controller('admin/tenants/:slug/quotas')
export class AdminQuotasController {
  constructor(private readonly admin: TenantQuotasAdmin) {}

  @Get()
  @ApiOperation({ operationId: 'adminGetQuotas', summary: "A tenant's quotas and usage" })
  @ApiOkResponse({ type: QuotasDto })
  @ApiErrors({ 404: 'TENANT_NOT_FOUND' })
  get(@Param('slug') slug: string): Promise<QuotasDto> {
    return this.admin.usage(slug);
  }

  /** Sets the tenant's own limits (fields given only); every gateway applies them to its next request. */
  @Put()
  @ApiOperation({ operationId: 'adminPutQuotas', summary: "Set a tenant's own limits (the fields given)" })
  @ApiErrors({ 404: 'TENANT_NOT_FOUND' })
  @ApiBodyErrors()
  @ApiOkResponse({ type: QuotasDto, description: 'The quotas as they apply now, with the usage' })
  put(@Param('slug') slug: string, @BodyOf('PutQuotasRequest') body: PutQuotasBody): Promise<QuotasDto> {
    return this.admin.set(slug, body);
  }
}
