import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { RemoteError } from '#polystore/messaging';
import { ErrorKind, isCodedError } from '#polystore/platform';
import { correlationIdOf, HttpErrorFilter } from '#polystore/runtime';
import type { FastifyReply } from 'fastify';
import { ConsoleErrorCode } from './console.exception.js';
import { isHtmx, sendHtml, type ConsoleRequest } from './console-request.js';
import { errorPage } from './views/error.view.js';

/** What an error page says: the status, the code and the message a client may see. */
interface Shown {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

/**
 * Every error of a console route as an HTML page with its code and message and the status the
 * admin API would give (the same mapping of error kinds): a refused action is a 4xx page, never
 * a 500. Anything unexpected is logged with its correlation id and shown as a bare 500. Without
 * a session, htmx requests also get `HX-Redirect: /console/login`; other htmx errors replace the
 * whole page (`HX-Retarget: body`).
 */
@Catch()
export class ConsoleErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(ConsoleErrorFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<ConsoleRequest>();
    const reply = http.getResponse<FastifyReply>();
    const correlationId = correlationIdOf(request.raw);
    const shown = this.shown(exception, correlationId);
    void reply.header('x-request-id', correlationId);
    if (isHtmx(request)) {
      if (shown.code === ConsoleErrorCode.CONSOLE_UNAUTHENTICATED) void reply.header('hx-redirect', '/console/login');
      else void reply.header('hx-retarget', 'body').header('hx-reswap', 'innerHTML');
    }
    const session = shown.status === 401 ? undefined : request.consoleSession;
    sendHtml(reply, shown.status, errorPage(shown.status, shown.code, shown.message, session));
  }

  private shown(exception: unknown, correlationId: string): Shown {
    if (isCodedError(exception)) {
      // A store refusing the gateway's own credentials is a misconfiguration, not the operator's fault.
      const refusedUs =
        exception instanceof RemoteError &&
        (exception.kind === ErrorKind.UNAUTHENTICATED || exception.kind === ErrorKind.PERMISSION_DENIED);
      const status = refusedUs ? 500 : HttpErrorFilter.statusOf(exception.kind);
      if (status < 500) return { status, code: exception.code, message: exception.message };
      this.logger.error({ err: exception, correlationId }, 'console: internal error');
      return { status, code: status === 500 ? 'INTERNAL' : exception.code, message: messageOf(status, correlationId) };
    }
    if (exception instanceof HttpException && exception.getStatus() < 500) {
      const status = exception.getStatus();
      return status === 404
        ? { status, code: ConsoleErrorCode.CONSOLE_NOT_FOUND, message: 'no such page' }
        : { status, code: `HTTP_${status}`, message: 'bad request' };
    }
    const client = (exception as { statusCode?: unknown }).statusCode;
    if (typeof client === 'number' && client >= 400 && client < 500)
      return { status: client, code: `HTTP_${client}`, message: 'bad request' };
    this.logger.error({ err: exception, correlationId }, 'console: unexpected error');
    return { status: 500, code: 'INTERNAL', message: messageOf(500, correlationId) };
  }
}

function messageOf(status: number, correlationId: string): string {
  return status === 500
    ? `internal error (correlation id ${correlationId})`
    : `temporarily unavailable (correlation id ${correlationId})`;
}
