import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { DynamicModule } from '@nestjs/common';
import { PolystoreNatsServer } from '#polystore/messaging';
import { Logger as NestPinoLogger } from 'nestjs-pino';
import type { Logger } from 'pino';
import { installShutdown } from './process.util.js';
import { registerAccessLog } from './logging.module.js';
import { StoreErrorFilter } from './store-error.filter.js';

export interface StoreProcessOptions {
  /** Service name and NATS queue group, e.g. `secure-store`. */
  readonly service: string;
  readonly module: DynamicModule;
  readonly logger: Logger;
  /** Port of the store's own HTTP server (metrics, health; ingest for the edge store). 0 = any. */
  readonly httpPort: number;
  readonly httpHost: string;
  readonly natsUrl: string;
  readonly subjectPrefix: string;
  readonly instanceId: string;
  readonly shutdownTimeoutMs: number;
  /** Largest HTTP body accepted, in bytes. */
  readonly bodyLimit?: number;
  /** Log one line per HTTP request (the edge store's ingest). */
  readonly accessLog?: boolean;
  /**
   * Stop on SIGTERM/SIGINT and exit (default). False when several apps share one process (the
   * quickstart), whose owner closes each app itself.
   */
  readonly handleSignals?: boolean;
}

/**
 * Starts a store: a NestJS application answering its NATS patterns (queue group = service, so
 * replicas share the load) plus a small HTTP server; logs `ready` with the bound port; stops
 * gracefully on SIGTERM/SIGINT (subscriptions first, in-flight messages, then DataSources), or
 * on `app.close()` when its process hosts several apps.
 */
export async function startStoreProcess(options: StoreProcessOptions): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    options.module,
    new FastifyAdapter({ bodyLimit: options.bodyLimit ?? 1_048_576, return503OnClosing: true }),
    { bufferLogs: true },
  );
  app.useLogger(app.get(NestPinoLogger));
  app.useGlobalFilters(new StoreErrorFilter());
  app.connectMicroservice(
    {
      strategy: new PolystoreNatsServer({
        url: options.natsUrl,
        queue: options.service,
        subjectPrefix: options.subjectPrefix,
        name: `${options.service}:${options.instanceId}`,
        drainTimeoutMs: options.shutdownTimeoutMs,
      }),
    },
    { inheritAppConfig: true },
  );
  if (options.accessLog) registerAccessLog(app.getHttpAdapter().getInstance(), options.logger);
  await app.startAllMicroservices();
  await app.listen(options.httpPort, options.httpHost);
  if (options.handleSignals !== false) installShutdown(app, options.logger, options.shutdownTimeoutMs);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : options.httpPort;
  options.logger.info({ port, instance: options.instanceId }, 'ready');
  return app;
}
