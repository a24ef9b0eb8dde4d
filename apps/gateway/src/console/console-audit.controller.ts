import { Controller, Get, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { AdminAuditService } from '#polystore/catalog';
import type { FastifyReply } from 'fastify';
import { ConsoleErrorFilter } from './console-error.filter.js';
import { sendHtml, type ConsoleRequest } from './console-request.js';
import { ConsoleSessionGuard } from './console-session.guard.js';
import { auditPage } from './views/audit.view.js';

/** The audit rows shown. */
const AUDIT_SHOWN = 100;

/** The admin audit: what was done through the console. */
@ApiExcludeController()
@UseGuards(ConsoleSessionGuard)
@UseFilters(ConsoleErrorFilter)
@Controller('console/audit')
export class ConsoleAuditController {
  constructor(private readonly audit: AdminAuditService) {}

  @Get()
  async list(@Req() request: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    sendHtml(reply, 200, auditPage(await this.audit.latest(AUDIT_SHOWN), request.consoleSession!));
  }
}
