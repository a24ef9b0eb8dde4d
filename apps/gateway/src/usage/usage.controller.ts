import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Contracts, MessageClient, usageQuerySchema } from '#polystore/messaging';
import type { z } from 'zod';
import { QueryOf } from '../request-schema.decorator.js';
import { TenantAuthGuard } from '../auth/tenant-auth.guard.js';
import { ApiTenantErrors } from '../openapi/api-errors.decorator.js';
import { UsagePageDto } from './usage.dto.js';

/** The usage ledger (reliable store): hourly amounts per device and metric. */
@ApiTags('usage')
@ApiBearerAuth()
@ApiTenantErrors()
@UseGuards(TenantAuthGuard)
@Controller('v1/usage')
export class UsageController {
  constructor(private readonly messages: MessageClient) {}

  @Get()
  @ApiOperation({ operationId: 'queryUsage', summary: 'Hourly usage amounts in a time window, per device and metric' })
  @ApiOkResponse({ type: UsagePageDto })
  query(@QueryOf(usageQuerySchema) query: z.output<typeof usageQuerySchema>): Promise<UsagePageDto> {
    return this.messages.request(Contracts.reliable.usage.query, {
      from: new Date(query.from).toISOString(),
      to: new Date(query.to).toISOString(),
      deviceId: query.deviceId,
      metric: query.metric,
    });
  }
}
