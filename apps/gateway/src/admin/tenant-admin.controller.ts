import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AdminGuard } from '../auth/admin.guard.js';
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
  create(@Body() body: CreateTenantDto): Promise<CreatedTenantDto> {
    return this.tenants.create(body.slug, body.name);
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
