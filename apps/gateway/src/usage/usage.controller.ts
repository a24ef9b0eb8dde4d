import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Contracts, MessageClient } from '#polystore/messaging';
import { TenantAuthGuard } from '../auth/tenant-auth.guard.js';
import { UsagePageDto, UsageQueryDto } from './usage.dto.js';

/** The usage ledger (reliable store): hourly amounts per device and metric. */
@ApiTags('usage')
@ApiBearerAuth()
@UseGuards(TenantAuthGuard)
@Controller('v1/usage')
export class UsageController {
  constructor(private readonly messages: MessageClient) {}

  @Get()
  @ApiOkResponse({ type: UsagePageDto })
  query(@Query() query: UsageQueryDto): Promise<UsagePageDto> {
    return this.messages.request(Contracts.reliable.usage.query, {
      from: new Date(query.from).toISOString(),
      to: new Date(query.to).toISOString(),
      deviceId: query.deviceId,
      metric: query.metric,
    });
  }
}
