import { Controller, Get, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ConsoleAssets } from './console-assets.js';
import { ConsoleErrorFilter } from './console-error.filter.js';
import { ConsolePublic, ConsoleSessionGuard } from './console-session.guard.js';

/** htmx and the stylesheet; no session needed (nothing in them is secret). */
@ApiExcludeController()
@UseGuards(ConsoleSessionGuard)
@UseFilters(ConsoleErrorFilter)
@ConsolePublic()
@Controller('console/assets')
export class ConsoleAssetsController {
  constructor(private readonly assets: ConsoleAssets) {}

  @Get('htmx.min.js')
  htmx(@Res() reply: FastifyReply): void {
    void reply.type('text/javascript; charset=utf-8').send(this.assets.htmx);
  }

  @Get('console.css')
  stylesheet(@Res() reply: FastifyReply): void {
    void reply.type('text/css; charset=utf-8').send(this.assets.stylesheet);
  }
}
