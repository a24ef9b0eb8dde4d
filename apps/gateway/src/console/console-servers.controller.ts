import { Controller, Get, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ConsoleErrorFilter } from './console-error.filter.js';
import { sendHtml, type ConsoleRequest } from './console-request.js';
import { ConsoleSessionGuard } from './console-session.guard.js';
import { StorePoolsReader } from './store-pools.service.js';
import { serversPage } from './views/servers.view.js';

/** The servers page: each store's database servers and pools, the telemetry stream. */
@ApiExcludeController()
@UseGuards(ConsoleSessionGuard)
@UseFilters(ConsoleErrorFilter)
@Controller('console/servers')
export class ConsoleServersController {
  constructor(private readonly pools: StorePoolsReader) {}

  /** One health request per store, all at once; a store that does not answer is shown `down`. */
  @Get()
  async list(@Req() request: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    sendHtml(reply, 200, serversPage(await this.pools.all(), request.consoleSession!));
  }
}
