import { LoggerModule } from 'nestjs-pino';
import type { DynamicModule } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { correlationIdOf } from './correlation-id.js';

/** Nest's logger routed to the process's pino logger (nestjs-pino), with the class name as context. */
export function loggingModule(logger: Logger): DynamicModule {
  return LoggerModule.forRoot({ pinoHttp: { logger, autoLogging: false } });
}

/**
 * One access-log line per HTTP request: method, route path (never the query string), status,
 * duration and correlation id. Headers and bodies are never logged.
 */
export function registerAccessLog(fastify: FastifyInstance, logger: Logger): void {
  const access = logger.child({ context: 'http' });
  fastify.addHook('onResponse', (request, reply, done) => {
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
