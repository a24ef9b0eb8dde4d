import { Inject, Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ConsoleSessionRevocations } from '#polystore/catalog';
import { ConsoleException } from './console.exception.js';
import type { ConsoleRequest } from './console-request.js';
import { ConsoleSessions, cookieValue, SESSION_COOKIE } from './console-session.util.js';

/** Injection token of the console's {@link ConsoleSessions}. */
export const CONSOLE_SESSIONS = Symbol('CONSOLE_SESSIONS');

const PUBLIC = 'polystore:console-public';

/** A console route that needs no session (the login form, the assets). */
export const ConsolePublic = () => SetMetadata(PUBLIC, true);

/**
 * The console's door, on every console route:
 * 1. any POST from another site (its `Origin` or `Sec-Fetch-Site`) is `403` (login included: login CSRF);
 * 2. without a valid session cookie (none, expired, signed with another admin token, logged out) `401`,
 *    except on {@link ConsolePublic} routes;
 * 3. a POST (other than the public login) without the session's CSRF token, as the form field
 *    `_csrf` or the header `X-CSRF-Token`, is `403`.
 * The verified session is put on the request (`consoleSession`).
 */
@Injectable()
export class ConsoleSessionGuard implements CanActivate {
  constructor(
    @Inject(CONSOLE_SESSIONS) private readonly sessions: ConsoleSessions,
    private readonly reflector: Reflector,
    private readonly revocations: ConsoleSessionRevocations,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<ConsoleRequest>();
    const posts = request.method === 'POST';
    if (posts && !sameOrigin(request)) throw ConsoleException.originRejected();
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, [context.getHandler(), context.getClass()])) return true;
    const session = this.sessions.verify(cookieValue(request.headers.cookie, SESSION_COOKIE));
    // A session logged out before its expiry is refused on every replica (the catalog's list).
    if (!session || (await this.revocations.isRevoked(session.nonce))) throw ConsoleException.unauthenticated();
    request.consoleSession = session;
    if (posts && !this.sessions.csrfMatches(session, csrfTokenOf(request))) throw ConsoleException.csrfRejected();
    return true;
  }
}

/**
 * Whether a POST comes from the console's own pages (or from no browser at all). Refused: a
 * `Sec-Fetch-Site` other than `same-origin` (or `none`), and an `Origin` whose host is not the
 * request's `Host`. `Origin: null` is what a browser sends for the console's own form posts,
 * because its pages are `Referrer-Policy: no-referrer`: it passes only with `Sec-Fetch-Site:
 * same-origin`, which the browser sets itself and a page cannot forge.
 */
function sameOrigin(request: ConsoleRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (origin === 'null') return site === 'same-origin';
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  return host !== '' && host === (request.headers.host ?? '').toLowerCase();
}

function csrfTokenOf(request: ConsoleRequest): unknown {
  const field = (request.body as Record<string, unknown> | undefined)?.['_csrf'];
  return field ?? request.headers['x-csrf-token'];
}
