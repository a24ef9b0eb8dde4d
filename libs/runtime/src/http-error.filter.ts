import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { RemoteError, type HttpErrorBody } from '#polystore/messaging';
import { ErrorKind, isCodedError, type CodedError } from '#polystore/platform';
import { correlationIdOf } from './correlation-id.js';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Codes of HTTP-level failures that happen before any handler runs. */
export const HttpErrorCode = {
  MALFORMED_JSON: 'MALFORMED_JSON',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  ROUTE_NOT_FOUND: 'ROUTE_NOT_FOUND',
  INTERNAL: 'INTERNAL',
} as const;

/** HTTP status of each error kind: the only place where codes become HTTP. */
const STATUS_OF_KIND: Record<ErrorKind, number> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RESOURCE_EXHAUSTED: 429,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
  INTERNAL: 500,
};

/** Error body of every non-2xx answer: the contract's `httpErrorBodySchema` (also the OpenAPI `ErrorBody`). */
export type ErrorBody = HttpErrorBody;

/** Fastify's own client errors (body parsing, limits) carry a 4xx statusCode and an FST_ code. */
function fastifyClientError(exception: unknown): { status: number; code: string; message: string } | null {
  const e = exception as { statusCode?: unknown; code?: unknown };
  if (typeof e?.statusCode !== 'number' || e.statusCode < 400 || e.statusCode >= 500) return null;
  if (typeof e.code !== 'string' || !e.code.startsWith('FST_')) return null;
  switch (e.statusCode) {
    case 413:
      return { status: 413, code: HttpErrorCode.PAYLOAD_TOO_LARGE, message: 'request body is too large' };
    case 415:
      return { status: 415, code: HttpErrorCode.UNSUPPORTED_MEDIA_TYPE, message: 'body must be application/json' };
    case 400:
      return { status: 400, code: HttpErrorCode.MALFORMED_JSON, message: 'request body is not valid JSON' };
    default:
      return { status: e.statusCode, code: e.code, message: 'bad request' };
  }
}

/**
 * The one HTTP exception filter (gateway, edge-store ingest). Coded errors (ours or relayed
 * from a store) map by kind;
 * Nest and Fastify client errors keep their 4xx; anything else is logged with its correlation
 * id and answered as a generic 500, without message, SQL or stack.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  /** HTTP status of an error kind. */
  static statusOf(kind: ErrorKind): number {
    return STATUS_OF_KIND[kind];
  }

  private readonly logger = new Logger(HttpErrorFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const correlationId = correlationIdOf(request.raw);
    if (
      exception instanceof HttpException &&
      exception.getStatus() === 503 &&
      isHealthReport(exception.getResponse())
    ) {
      // Terminus reports "not ready" as a 503 carrying the per-check report: that report is the body.
      void reply.header('Retry-After', '1');
      void reply.status(503).send(exception.getResponse());
      return;
    }
    const body = this.toBody(exception, correlationId);
    if (body.statusCode === 503 || body.statusCode === 429) {
      const retryAfter = retryAfterOf(exception);
      if (retryAfter !== null) void reply.header('Retry-After', retryAfter);
    }
    void reply.header('x-request-id', correlationId);
    void reply.status(body.statusCode).send(body);
  }

  private toBody(exception: unknown, correlationId: string): ErrorBody {
    if (isCodedError(exception)) {
      const statusCode = STATUS_OF_KIND[clientFacingKind(exception)];
      if (statusCode === 500) this.logger.error({ err: exception, correlationId }, 'internal error');
      const errors = exception.kind === ErrorKind.INVALID_ARGUMENT ? listOf(exception.details) : undefined;
      const sagaId = statusCode < 500 ? exception.details?.['sagaId'] : undefined;
      const quota = statusCode === 429 ? quotaOf(exception.details) : undefined;
      return {
        statusCode,
        code: exception.code,
        message: statusCode === 500 ? 'internal error' : exception.message,
        correlationId,
        ...(errors ? { errors } : {}),
        ...(typeof sagaId === 'string' ? { sagaId } : {}),
        ...(quota ? { quota } : {}),
      };
    }
    // Fastify's body-parsing errors arrive wrapped by Nest in an HttpException (cause = FastifyError).
    const client = fastifyClientError(exception instanceof HttpException ? exception.cause : exception);
    if (client) return { statusCode: client.status, code: client.code, message: client.message, correlationId };
    if (exception instanceof HttpException && exception.getStatus() < 500) {
      const statusCode = exception.getStatus();
      return {
        statusCode,
        code: statusCode === 404 ? HttpErrorCode.ROUTE_NOT_FOUND : `HTTP_${statusCode}`,
        message: statusCode === 404 ? 'no such route' : exception.message,
        correlationId,
      };
    }
    this.logger.error({ err: exception, correlationId }, 'unexpected error');
    return { statusCode: 500, code: HttpErrorCode.INTERNAL, message: 'internal error', correlationId };
  }
}

/**
 * A store that refuses the gateway's own credentials or signed context (`CONTEXT_*`) reports a
 * misconfigured service, not a client without rights: the client gets a 500, the log the cause.
 */
function clientFacingKind(error: CodedError<string>): ErrorKind {
  const refusedUs = error.kind === ErrorKind.UNAUTHENTICATED || error.kind === ErrorKind.PERMISSION_DENIED;
  return refusedUs && error instanceof RemoteError ? ErrorKind.INTERNAL : error.kind;
}

/**
 * Seconds before a retry: a coded error's `details.retryAfterSeconds` (a rate limit's window), else
 * 1; null (no `Retry-After`) when the error says `retryAfterSeconds: null`: waiting changes
 * nothing (a quota).
 */
function retryAfterOf(exception: unknown): string | null {
  const seconds = isCodedError(exception) ? exception.details?.['retryAfterSeconds'] : undefined;
  if (seconds === null) return null;
  return typeof seconds === 'number' && Number.isInteger(seconds) && seconds > 0 ? String(seconds) : '1';
}

/** A quota error's `details.quota`, when it has the expected shape. */
function quotaOf(details: Record<string, unknown> | undefined): ErrorBody['quota'] {
  const quota = details?.['quota'] as { name?: unknown; limit?: unknown; used?: unknown } | undefined;
  if (typeof quota?.name !== 'string' || typeof quota.limit !== 'number' || typeof quota.used !== 'number')
    return undefined;
  return { name: quota.name, limit: quota.limit, used: quota.used };
}

function isHealthReport(response: unknown): boolean {
  return typeof response === 'object' && response !== null && 'details' in response && 'status' in response;
}

function listOf(details: Record<string, unknown> | undefined): string[] | undefined {
  const candidate = details?.['errors'] ?? details?.['fields'];
  return Array.isArray(candidate) && candidate.every((e) => typeof e === 'string') ? candidate : undefined;
}
