import { Body, Controller, Get, Param, Post, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { CatalogException, TenantBrowser } from '#polystore/catalog';
import { Contracts, MessageClient, type AuditVerdictView } from '#polystore/messaging';
import { newRequestContext, parseTenantSlug, RequestContextStore } from '#polystore/tenancy';
import type { FastifyReply } from 'fastify';
import { GatewayException } from '../gateway.exception.js';
import { ConsoleAudit, outcomeOf } from './console-audit.service.js';
import { ConsoleErrorFilter } from './console-error.filter.js';
import { isHtmx, sendHtml, type ConsoleRequest } from './console-request.js';
import { ConsoleSampler } from './console-sampler.service.js';
import { auditVerifyFormSchema, parseInput } from './console.schemas.js';
import { ConsoleSessionGuard } from './console-session.guard.js';
import { StoreDirectory } from '../stores/store-directory.js';
import { TenantInsightsReader } from './tenant-insights.service.js';
import { overviewPage } from './views/overview.view.js';
import { auditVerdictPage, auditVerifySection, migrationsFragment } from './views/tenant-insights.view.js';

/** The outcome written to the admin audit for a chain that does not verify (the check itself ran). */
const CHAIN_INVALID = 'AUDIT_CHAIN_INVALID';

/** The overview's plots, and checking a tenant's audit chain on request. */
@ApiExcludeController()
@UseGuards(ConsoleSessionGuard)
@UseFilters(ConsoleErrorFilter)
@Controller('console')
export class ConsoleInsightsController {
  constructor(
    private readonly sampler: ConsoleSampler,
    private readonly directory: StoreDirectory,
    private readonly tenants: TenantBrowser,
    private readonly messages: MessageClient,
    private readonly audit: ConsoleAudit,
    private readonly insights: TenantInsightsReader,
  ) {}

  /** From the sampler's ring in memory: no request to any store. */
  @Get('overview')
  overview(@Req() request: ConsoleRequest, @Res() reply: FastifyReply): void {
    const samples = this.sampler.samples();
    sendHtml(
      reply,
      200,
      overviewPage(
        this.sampler.plots(),
        samples.at(-1),
        this.directory.stores.map((s) => s.store),
        this.sampler.intervalMs,
        request.consoleSession!,
      ),
    );
  }

  /** A tenants page row's migration versions (fetched by htmx once the row is on screen). */
  @Get('tenants/:slug/migrations')
  async migrations(@Param('slug') slugParam: string, @Res() reply: FastifyReply): Promise<void> {
    const slug = parseTenantSlug(slugParam);
    const tenant = await this.tenants.find(slug);
    if (!tenant) throw CatalogException.tenantNotFound(slug);
    sendHtml(reply, 200, migrationsFragment((await this.insights.of(tenant)).migrations));
  }

  /**
   * The secure store's `secure.audit.verify` for the tenant, on request only (a walk of its
   * chain), audited like every action: `ok`, `AUDIT_CHAIN_INVALID` with the verdict in the
   * detail, or the call's error code. htmx gets the section with the verdict; a plain form post
   * a page of its own.
   */
  @Post('tenants/:slug/audit/verify')
  async verify(
    @Param('slug') slugParam: string,
    @Body() body: unknown,
    @Req() request: ConsoleRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const session = request.consoleSession!;
    const target = slugParam.slice(0, 100);
    const presented = (body as Record<string, unknown> | undefined)?.['mode'];
    const detail: Record<string, unknown> = typeof presented === 'string' ? { mode: presented.slice(0, 20) } : {};
    let verdict: AuditVerdictView;
    try {
      verdict = await this.verdictOf(slugParam, body);
    } catch (error) {
      await this.audit.record(session, 'audit.verify', target, outcomeOf(error), detail);
      throw error;
    }
    const { valid, checked, reason, firstInvalidSeq } = verdict;
    await this.audit.record(session, 'audit.verify', target, valid ? 'ok' : CHAIN_INVALID, {
      ...detail,
      valid,
      checked,
      reason,
      firstInvalidSeq,
    });
    const slug = parseTenantSlug(slugParam);
    sendHtml(
      reply,
      200,
      isHtmx(request) ? auditVerifySection(slug, session, verdict) : auditVerdictPage(slug, verdict, session),
    );
  }

  private async verdictOf(slugParam: string, body: unknown): Promise<AuditVerdictView> {
    const { mode } = parseInput(auditVerifyFormSchema, body);
    const slug = parseTenantSlug(slugParam);
    const tenant = await this.tenants.find(slug);
    if (!tenant) throw CatalogException.tenantNotFound(slug);
    if (!tenant.placements.some((p) => p.store === 'secure'))
      throw GatewayException.validation([`slug: tenant ${slug} has no secure placement, so no audit chain`]);
    return RequestContextStore.run(newRequestContext({ tenant: slug }), () =>
      this.messages.request(Contracts.secure.audit.verify, { mode }),
    );
  }
}
