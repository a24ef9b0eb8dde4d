import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import type { DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { correlationIdOf } from './correlation-id.js';

/**
 * Nest logging through the process's pino logger (nestjs-pino), with an access log line per
 * HTTP request that carries method, route path, status and duration; never headers, bodies or
 * query strings.
 */
export function loggingModule(logger: Logger, options: { accessLog: boolean }): DynamicModule {
  return LoggerModule.forRoot({
    pinoHttp: {
      logger,
      autoLogging: options.accessLog,
      genReqId: (req: IncomingMessage) => correlationIdOf(req),
      customAttributeKeys: { reqId: 'correlationId' },
      serializers: {
        req: (req: { id?: unknown; method?: string; url?: string }) => ({
          method: req.method,
          path: typeof req.url === 'string' ? req.url.split('?')[0] : undefined,
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      },
      customSuccessMessage: (req: IncomingMessage, res: ServerResponse) => `${req.method} ${res.statusCode}`,
      customErrorMessage: (req: IncomingMessage, res: ServerResponse) => `${req.method} ${res.statusCode}`,
    },
  });
}
