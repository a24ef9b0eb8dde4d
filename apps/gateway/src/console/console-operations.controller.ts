import { Body, Controller, Get, Param, Post, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import {
  CatalogException,
  isStoreName,
  OperationRequests,
  TenantBrowser,
  type OperationRecord,
  type StoreName,
} from '#polystore/catalog';
import { parseServerUrl } from '#polystore/data-router';
import { parseTenantSlug, type TenantSlug } from '#polystore/tenancy';
import type { FastifyReply } from 'fastify';
import { uuidParam } from '../common.pipes.js';
import { GatewayException } from '../gateway.exception.js';
import { actorOf, ConsoleAudit, outcomeOf } from './console-audit.service.js';
import { ConsoleErrorFilter } from './console-error.filter.js';
import { isHtmx, sendHtml, seeOther, type ConsoleRequest } from './console-request.js';
import { moveFormSchema, parseInput } from './console.schemas.js';
import { ConsoleSessionGuard } from './console-session.guard.js';
import { MoveTargets } from './move-targets.service.js';
import { operationPage, operationSection, operationsPage } from './views/operations.view.js';

/** The operations listed on the operations page. */
const OPERATIONS_SHOWN = 100;

/**
 * Long actions (issue 19): moving a placement and running its migrations. The console only
 * records the intent in the catalog (`OperationRequests`); `polystore ops worker`, which holds the
 * administrative database access the gateway must not, runs it and writes each phase, the report
 * or the error. The operation's page shows them as they come (htmx polls a fragment every second).
 */
@ApiExcludeController()
@UseGuards(ConsoleSessionGuard)
@UseFilters(ConsoleErrorFilter)
@Controller('console')
export class ConsoleOperationsController {
  constructor(
    private readonly operations: OperationRequests,
    private readonly tenants: TenantBrowser,
    private readonly targets: MoveTargets,
    private readonly audit: ConsoleAudit,
  ) {}

  @Get('operations')
  async list(@Req() request: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    sendHtml(reply, 200, operationsPage(await this.operations.latest(OPERATIONS_SHOWN), request.consoleSession!));
  }

  @Get('operations/:id')
  async show(
    @Param('id', uuidParam('id')) id: string,
    @Req() request: ConsoleRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    sendHtml(reply, 200, operationPage(await this.operations.get(id), request.consoleSession!));
  }

  /** The live part of the operation's page (htmx polls it every second until the operation has finished). */
  @Get('operations/:id/progress')
  async progress(@Param('id', uuidParam('id')) id: string, @Res() reply: FastifyReply): Promise<void> {
    sendHtml(reply, 200, operationSection(await this.operations.get(id)));
  }

  /** Queues a move of the placement to a server the catalog knows for the store (or its default); audited. */
  @Post('tenants/:slug/placements/:store/move')
  async move(
    @Param('slug') slugParam: string,
    @Param('store') storeParam: string,
    @Body() body: unknown,
    @Req() request: ConsoleRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const form = body as Record<string, unknown> | undefined;
    const text = (value: unknown, max: number) => (typeof value === 'string' ? value.slice(0, max) : '');
    const detail = {
      store: storeParam.slice(0, 40),
      targetKind: text(form?.['targetKind'], 40),
      targetServer: text(form?.['targetServer'], 300),
    };
    const operation = await this.audited(request, 'placement.move', slugParam, detail, async () => {
      const { slug, store } = parsePlacement(slugParam, storeParam);
      const { targetKind, targetServer } = parseInput(moveFormSchema, body);
      await this.checkTarget(slug, store, targetKind, targetServer);
      return this.operations.request({
        kind: 'move',
        tenant: slug,
        store,
        params: { targetKind, targetServer },
        requestedBy: actorOf(request.consoleSession),
      });
    });
    this.toOperation(request, reply, operation);
  }

  /** Queues the placement's pending migrations; audited. */
  @Post('tenants/:slug/placements/:store/migrate')
  async migrate(
    @Param('slug') slugParam: string,
    @Param('store') storeParam: string,
    @Req() request: ConsoleRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const operation = await this.audited(
      request,
      'placement.migrate',
      slugParam,
      { store: storeParam.slice(0, 40) },
      () => {
        const { slug, store } = parsePlacement(slugParam, storeParam);
        return this.operations.request({
          kind: 'migrate',
          tenant: slug,
          store,
          requestedBy: actorOf(request.consoleSession),
        });
      },
    );
    this.toOperation(request, reply, operation);
  }

  /** One admin audit row for the request, `ok` with the operation's id, or the error's code. */
  private async audited(
    request: ConsoleRequest,
    action: 'placement.move' | 'placement.migrate',
    target: string,
    detail: Record<string, unknown>,
    work: () => Promise<OperationRecord>,
  ): Promise<OperationRecord> {
    const session = request.consoleSession;
    try {
      const operation = await work();
      await this.audit.record(session, action, target.slice(0, 100), 'ok', { ...detail, operation: operation.id });
      return operation;
    } catch (error) {
      await this.audit.record(session, action, target.slice(0, 100), outcomeOf(error), detail);
      throw error;
    }
  }

  /**
   * The target must be one the console offers for the store (a server its placements use, or its
   * default), a kind the engine takes, and not where the placement already is.
   */
  private async checkTarget(slug: TenantSlug, store: StoreName, kind: string, server: string): Promise<void> {
    const offered = (await this.targets.byStore())[store];
    if (!offered?.servers.some((t) => t.server === server))
      throw GatewayException.validation([`targetServer must be one of the ${store} store's known servers`]);
    if (!offered.kinds.some((k) => k === kind))
      throw GatewayException.validation([`targetKind ${kind} is not possible for the ${store} store`]);
    if (kind === 'schema' && parseServerUrl(server).dialect !== 'postgres')
      throw GatewayException.validation(['targetKind schema needs a PostgreSQL server']);
    const tenant = await this.tenants.find(slug);
    if (!tenant) throw CatalogException.tenantNotFound(slug);
    const placement = tenant.placements.find((p) => p.store === store);
    if (!placement) throw CatalogException.placementNotFound(slug, store);
    if (placement.server === server && placement.kind === kind)
      throw GatewayException.validation([`targetServer: the ${store} placement is already ${kind} on that server`]);
  }

  /** On to the operation's page: a 303, or for htmx `HX-Redirect` (the browser then loads the page itself). */
  private toOperation(request: ConsoleRequest, reply: FastifyReply, operation: OperationRecord): void {
    const location = `/console/operations/${operation.id}`;
    if (isHtmx(request)) void reply.status(200).header('hx-redirect', location).send();
    else seeOther(reply, location);
  }
}

function parsePlacement(slugParam: string, storeParam: string): { slug: TenantSlug; store: StoreName } {
  const slug = parseTenantSlug(slugParam);
  if (!isStoreName(storeParam)) throw GatewayException.validation([`store must be a store name`]);
  return { slug, store: storeParam };
}
