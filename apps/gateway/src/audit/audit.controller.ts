import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Contracts, MessageClient } from '#polystore/messaging';
import { TenantAuthGuard } from '../auth/tenant-auth.guard.js';
import { AuditPageDto, AuditQueryDto, AuditVerdictDto, AuditVerifyQueryDto } from './audit.dto.js';

/** The tenant's tamper-evident audit log (secure store). */
@ApiTags('audit')
@ApiBearerAuth()
@UseGuards(TenantAuthGuard)
@Controller('v1/audit')
export class AuditController {
  constructor(private readonly messages: MessageClient) {}

  @Get()
  @ApiOkResponse({ type: AuditPageDto })
  list(@Query() query: AuditQueryDto): Promise<AuditPageDto> {
    return this.messages.request(Contracts.secure.audit.list, {
      afterSeq: query.afterSeq ?? 0,
      limit: query.limit ?? 100,
    });
  }

  @Get('verify')
  @ApiOkResponse({ type: AuditVerdictDto })
  verify(@Query() query: AuditVerifyQueryDto): Promise<AuditVerdictDto> {
    return this.messages.request(Contracts.secure.audit.verify, { mode: query.mode ?? 'checkpoint' });
  }
}
