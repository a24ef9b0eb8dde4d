import { LoggerModule } from 'nestjs-pino';
import type { DynamicModule } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { correlationIdOf } from './correlation-id.js';

/** Nest's logger routed to the process's pino logger (nestjs-pino), with the class name as context. */
export function loggingModule(logger: Logger): DynamicModule {
  return LoggerModule.forRoot({ pinoHttp: { logger, autoLogging: false } });
}

const UNLOGGED = Symbol('polystore.accessLog.skip');

/**
 * Leaves the request out of the access log: for requests refused in bulk (a flood from an address
 * already refused), which are counted by the HTTP metrics and logged once per refusal instead, so
 * that a flood does not become a flood of log lines.
 */
export function skipAccessLog(request: FastifyRequest): void {
  (request.raw as IncomingMessage & { [UNLOGGED]?: true })[UNLOGGED] = true;
}

/**
 * One access-log line per HTTP request (but those marked by {@link skipAccessLog}): method, route
 * path (never the query string), status, duration and correlation id. Headers and bodies are
 * never logged.
 */
export function registerAccessLog(fastify: FastifyInstance, logger: Logger): void {
  const access = logger.child({ context: 'http' });
  fastify.addHook('onResponse', (request, reply, done) => {
    if ((request.raw as IncomingMessage & { [UNLOGGED]?: true })[UNLOGGED]) {
      done();
      return;
    }
    access.info(
      {
        correlationId: correlationIdOf(request.raw),
        req: { method: request.method, path: request.url.split('?')[0], route: request.routeOptions.url ?? null },
        res: { statusCode: reply.statusCode },
        responseTimeMs: Math.round(reply.elapsedTime * 10) / 10,
      },
      `${request.method} ${reply.statusCode}`,
    );
    done();
  });
}
