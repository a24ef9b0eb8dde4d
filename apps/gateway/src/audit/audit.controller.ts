import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Contracts, MessageClient } from '#polystore/messaging';
import { TenantAuthGuard } from '../auth/tenant-auth.guard.js';
import { ApiTenantErrors } from '../openapi/api-errors.decorator.js';
import { AuditPageDto, AuditQueryDto, AuditVerdictDto, AuditVerifyQueryDto } from './audit.dto.js';

/** The tenant's tamper-evident audit log (secure store). */
@ApiTags('audit')
@ApiBearerAuth()
@ApiTenantErrors()
@UseGuards(TenantAuthGuard)
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly messages: MessageClient) {}

  @Get()
  @ApiOperation({ operationId: 'listAuditEntries', summary: "Page through the tenant's audit log" })
  @ApiOkResponse({ type: AuditPageDto })
  list(@Query() query: AuditQueryDto): Promise<AuditPageDto> {
    return this.messages.request(Contracts.secure.audit.list, {
      afterSeq: query.afterSeq ?? 0,
      limit: query.limit ?? 100,
    });
  }

  @Get('verify')
  @ApiOperation({
    operationId: 'verifyAuditLog',
    summary: "Check the audit log's hash chain (from the checkpoint, or in full)",
  })
  @ApiOkResponse({ type: AuditVerdictDto })
  verify(@Query() query: AuditVerifyQueryDto): Promise<AuditVerdictDto> {
    return this.messages.request(Contracts.secure.audit.verify, { mode: query.mode ?? 'checkpoint' });
  }
}
