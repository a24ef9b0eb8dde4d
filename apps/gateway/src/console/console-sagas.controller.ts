import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, Param, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { uuidParam } from '../common.pipes.js';
import { SagasService } from '../sagas/sagas.service.js';
import { ConsoleAudit, type ConsoleAction } from './console-audit.service.js';
import { ConsoleErrorFilter } from './console-error.filter.js';
import { sendHtml, seeOther, type ConsoleRequest } from './console-request.js';
import { parseInput, sagaActionFormSchema, sagasQuerySchema } from './console.schemas.js';
import { ConsoleSessionGuard } from './console-session.guard.js';
import { sagaPage, sagasPage } from './views/sagas.view.js';

/** The sagas listed on the sagas page. */
const SAGAS_SHOWN = 200;

/** The sagas pages, and the operator's retry and skip of a parked saga. */
@ApiExcludeController()
@UseGuards(ConsoleSessionGuard)
@UseFilters(ConsoleErrorFilter)
@Controller('console/sagas')
export class ConsoleSagasController {
  constructor(
    private readonly sagas: SagasService,
    private readonly audit: ConsoleAudit,
  ) {}

  @Get()
  async list(@Query() query: unknown, @Req() request: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const { state } = parseInput(sagasQuerySchema, query);
    const sagas = await this.sagas.list(state, { limit: SAGAS_SHOWN });
    sendHtml(reply, 200, sagasPage(sagas, state, request.consoleSession!));
  }

  /** The saga, with a fresh idempotency key in each action form: a double submit of a form acts once. */
  @Get(':id')
  async show(
    @Param('id', uuidParam('id')) id: string,
    @Req() request: ConsoleRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const { saga, inputDigest } = await this.sagas.getWithDigest(id);
    const keys = { retry: `console-retry-${randomUUID()}`, skip: `console-skip-${randomUUID()}` };
    sendHtml(reply, 200, sagaPage(saga, inputDigest, keys, request.consoleSession!));
  }

  @Post(':id/retry')
  retry(
    @Param('id', uuidParam('id')) id: string,
    @Body() body: unknown,
    @Req() request: ConsoleRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    return this.act('saga.retry', id, body, request, reply);
  }

  @Post(':id/skip')
  skip(
    @Param('id', uuidParam('id')) id: string,
    @Body() body: unknown,
    @Req() request: ConsoleRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    return this.act('saga.skip', id, body, request, reply);
  }

  /** The admin API's retry or skip with the form's idempotency key, audited; back to the saga's page. */
  private async act(
    action: Extract<ConsoleAction, 'saga.retry' | 'saga.skip'>,
    id: string,
    body: unknown,
    request: ConsoleRequest,
    reply: FastifyReply,
  ): Promise<void> {
    // A malformed key is refused inside the audited work: the row says VALIDATION_FAILED.
    const presented = (body as Record<string, unknown> | undefined)?.['idempotencyKey'];
    const detail = typeof presented === 'string' ? { idempotencyKey: presented.slice(0, 200) } : {};
    await this.audit.around(request.consoleSession, action, id, detail, () => {
      const { idempotencyKey } = parseInput(sagaActionFormSchema, body);
      return action === 'saga.retry' ? this.sagas.retry(id, idempotencyKey) : this.sagas.skip(id, idempotencyKey);
    });
    seeOther(reply, `/console/sagas/${id}`);
  }
}
