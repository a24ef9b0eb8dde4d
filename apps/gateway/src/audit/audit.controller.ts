import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { auditListQuerySchema, auditVerifyQuerySchema, Contracts, MessageClient } from '#polystore/messaging';
import type { z } from 'zod';
import { QueryOf } from '../request-schema.decorator.js';
import { TenantAuthGuard } from '../auth/tenant-auth.guard.js';
import { ApiTenantErrors } from '../openapi/api-errors.decorator.js';
import { AuditPageDto, AuditVerdictDto } from './audit.dto.js';

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
  list(@QueryOf(auditListQuerySchema) query: z.output<typeof auditListQuerySchema>): Promise<AuditPageDto> {
    return this.messages.request(Contracts.secure.audit.list, {
      afterSeq: query.afterSeq,
      limit: query.limit,
    });
  }

  @Get('verify')
  @ApiOperation({
    operationId: 'verifyAuditLog',
    summary: "Check the audit log's hash chain (from the checkpoint, or in full)",
  })
  @ApiOkResponse({ type: AuditVerdictDto })
  verify(@QueryOf(auditVerifyQuerySchema) query: z.output<typeof auditVerifyQuerySchema>): Promise<AuditVerdictDto> {
    return this.messages.request(Contracts.secure.audit.verify, { mode: query.mode });
  }
}
