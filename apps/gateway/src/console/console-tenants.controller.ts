import { Controller, Get, Param, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { ApiKeyAdminService, CatalogException, TenantBrowser, type ApiKeyHistoryView } from '#polystore/catalog';
import { parseTenantSlug } from '#polystore/tenancy';
import type { FastifyReply } from 'fastify';
import { uuidParam } from '../common.pipes.js';
import { SagasService } from '../sagas/sagas.service.js';
import { ConsoleAudit } from './console-audit.service.js';
import { ConsoleErrorFilter } from './console-error.filter.js';
import { isHtmx, sendHtml, seeOther, type ConsoleRequest } from './console-request.js';
import { parseInput, tenantsQuerySchema } from './console.schemas.js';
import { ConsoleSessionGuard } from './console-session.guard.js';
import { MoveTargets } from './move-targets.service.js';
import { StoreHealth } from './store-health.service.js';
import { TenantErrorRatesHook } from './tenant-error-rates.service.js';
import { TenantInsightsReader } from './tenant-insights.service.js';
import { tenantInsightsSection, tenantsColumns } from './views/tenant-insights.view.js';
import { keyRow, tenantPage } from './views/tenant.view.js';
import { tenantsPage } from './views/tenants.view.js';

/** Tenants a page at a time. */
const PAGE_SIZE = 50;
/** The sagas shown on a tenant's page. */
const TENANT_SAGAS = 20;

/** The tenants pages, and revoking a tenant's API key. */
@ApiExcludeController()
@UseGuards(ConsoleSessionGuard)
@UseFilters(ConsoleErrorFilter)
@Controller('console/tenants')
export class ConsoleTenantsController {
  constructor(
    private readonly tenants: TenantBrowser,
    private readonly keys: ApiKeyAdminService,
    private readonly sagas: SagasService,
    private readonly health: StoreHealth,
    private readonly audit: ConsoleAudit,
    private readonly moveTargets: MoveTargets,
    private readonly insights: TenantInsightsReader,
    private readonly errorRates: TenantErrorRatesHook,
  ) {}

  /** One catalog query for the page and its placements, one health ping per store. */
  @Get()
  async list(@Query() query: unknown, @Req() request: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const { q, after } = parseInput(tenantsQuerySchema, query);
    const [page, health] = await Promise.all([this.tenants.page({ q, after, limit: PAGE_SIZE }), this.health.check()]);
    const extra = tenantsColumns((tenant) => this.errorRates.of(tenant));
    sendHtml(reply, 200, tenantsPage(page, q, health, request.consoleSession!, extra));
  }

  @Get(':slug')
  async show(
    @Param('slug') slugParam: string,
    @Req() request: ConsoleRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const slug = parseTenantSlug(slugParam);
    const tenant = await this.tenants.find(slug);
    if (!tenant) throw CatalogException.tenantNotFound(slug);
    // A deleted tenant (kept for its grace period) has no keys to manage.
    const [keys, sagas, targets, insights] = await Promise.all([
      tenant.status === 'deleted' ? Promise.resolve([]) : this.keys.history(slug),
      this.sagas.list(undefined, { tenant: slug, limit: TENANT_SAGAS }),
      // A deleted tenant is not moved (nor migrated): no forms.
      tenant.status === 'active' ? this.moveTargets.byStore() : Promise.resolve(undefined),
      // Each store asked at once, briefly: one that does not answer costs its figures only.
      tenant.status === 'deleted' ? Promise.resolve(undefined) : this.insights.of(tenant),
    ]);
    const session = request.consoleSession!;
    const details = insights ? tenantInsightsSection(slug, insights, session) : undefined;
    sendHtml(reply, 200, tenantPage(tenant, keys, sagas, session, targets, details));
  }

  /** The admin API's revoke (the key is refused at once on every gateway), audited; htmx gets the row again. */
  @Post(':slug/keys/:id/revoke')
  async revoke(
    @Param('slug') slugParam: string,
    @Param('id', uuidParam('id')) keyId: string,
    @Req() request: ConsoleRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const session = request.consoleSession!;
    await this.audit.around(session, 'key.revoke', keyId, { tenant: slugParam }, () =>
      this.keys.revoke(parseTenantSlug(slugParam), keyId),
    );
    const slug = parseTenantSlug(slugParam);
    if (!isHtmx(request)) {
      seeOther(reply, `/console/tenants/${slug}`);
      return;
    }
    const key: ApiKeyHistoryView | undefined = (await this.keys.history(slug)).find((k) => k.id === keyId);
    if (!key) throw CatalogException.apiKeyNotFound(keyId);
    sendHtml(reply, 200, keyRow(slug, key, session));
  }
}
