import { Body, Controller, Get, Inject, Post, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ApiExcludeController } from '@nestjs/swagger';
import { ConsoleSessionRevocations } from '#polystore/catalog';
import { constantTimeEqual } from '#polystore/platform';
import type { FastifyReply } from 'fastify';
import { RequestLimits } from '../auth/request-limits.service.js';
import { ADMIN_TOKEN } from '../config.js';
import { ConsoleAudit } from './console-audit.service.js';
import { ConsoleErrorFilter } from './console-error.filter.js';
import { sendHtml, seeOther, type ConsoleRequest } from './console-request.js';
import { CONSOLE_SESSIONS, ConsolePublic, ConsoleSessionGuard } from './console-session.guard.js';
import { clearedSessionCookie, ConsoleSessions, sessionCookie } from './console-session.util.js';
import { loginPage } from './views/login.view.js';

/** Logging in and out of the console (the admin token, once, for a signed session cookie). */
@ApiExcludeController()
@UseGuards(ConsoleSessionGuard)
@UseFilters(ConsoleErrorFilter)
@Controller('console')
export class ConsoleAuthController {
  constructor(
    @Inject(CONSOLE_SESSIONS) private readonly sessions: ConsoleSessions,
    @Inject(ADMIN_TOKEN) private readonly adminToken: string,
    private readonly audit: ConsoleAudit,
    private readonly modules: ModuleRef,
    private readonly revocations: ConsoleSessionRevocations,
  ) {}

  /** The gateway's failed-authentication limit (`AUTH_FAILURE_LIMIT_PER_MIN`), shared with the tenant API. */
  private get limits(): RequestLimits {
    return this.modules.get(RequestLimits, { strict: false });
  }

  /** Logged in: on to the overview; else the guard's 401. */
  @Get()
  home(@Res() reply: FastifyReply): void {
    seeOther(reply, '/console/overview');
  }

  @ConsolePublic()
  @Get('login')
  form(@Res() reply: FastifyReply): void {
    sendHtml(reply, 200, loginPage());
  }

  /** The admin token, compared in constant time: a session cookie and on to the tenants, or 401 and the form again. */
  @ConsolePublic()
  @Post('login')
  async login(@Body() body: unknown, @Req() request: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    // An address with too many failed authentications in a minute is not even compared: 429.
    const retryAfter = await this.limits.refusedFor(request);
    if (retryAfter !== undefined) {
      await this.audit.record(undefined, 'login-failed', null, 'TOO_MANY_AUTH_FAILURES');
      void reply.header('retry-after', String(retryAfter));
      sendHtml(reply, 429, loginPage('throttled'));
      return;
    }
    // Missing, not text, or wrong: the same 401 (and audit row), counted against the address.
    const token = (body as Record<string, unknown> | undefined)?.['token'];
    if (typeof token !== 'string' || !constantTimeEqual(token, this.adminToken)) {
      await this.limits.countAuthFailure(request);
      await this.audit.record(undefined, 'login-failed', null, 'CONSOLE_WRONG_TOKEN');
      sendHtml(reply, 401, loginPage('wrong'));
      return;
    }
    const issued = this.sessions.issue();
    await this.audit.record(issued.session, 'login', null, 'ok', { expiresAt: issued.session.expiresAt });
    void reply.header('set-cookie', sessionCookie(issued.cookie, this.sessions.ttlSeconds));
    seeOther(reply, '/console/tenants');
  }

  /**
   * Ends the session: revoked in the catalog until it would have expired (a copy of the cookie is
   * refused on every replica from now on), and the cookie cleared in this browser.
   */
  @Post('logout')
  async logout(@Req() request: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const session = request.consoleSession!;
    await this.revocations.revoke(session.nonce, new Date(session.expiresAt * 1_000));
    await this.audit.record(session, 'logout', null, 'ok');
    void reply.header('set-cookie', clearedSessionCookie());
    seeOther(reply, '/console/login');
  }
}
