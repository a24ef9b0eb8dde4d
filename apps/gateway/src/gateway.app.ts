import type { IncomingMessage } from 'node:http';
import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { createMetricsRegistry, createRootLogger } from '#polystore/platform';
import {
  armCrashPoints,
  correlationIdOf,
  installShutdown,
  loadConfigOrExit,
  registerAccessLog,
  resolveAdminToken,
  resolveMasterKey,
} from '#polystore/runtime';
import { contextLogFields } from '#polystore/tenancy';
import { Logger } from 'nestjs-pino';
import { gatewayConfigSchema } from './config.js';
import { GatewayException } from './gateway.exception.js';
import { GatewayModule } from './gateway.module.js';
import { registerHttpMetrics } from './http-metrics.js';

const SERVICE = 'gateway';

/**
 * Starts the gateway on the configuration read from `env` (validated; a bad variable is printed
 * and the process exits 1). `main.ts` runs it alone; the quickstart runs every app in one process
 * and passes `handleSignals: false`.
 */
/**
 * Every constraint message, nested ones included and named by their path
 * (`placements.0: kind must be one of ...`), so a 400 names the field that is wrong.
 */
function validationMessages(errors: readonly ValidationError[], path = ''): string[] {
  return errors.flatMap((e) => {
    const here = path ? `${path}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => (path ? `${path}: ${message}` : message));
    const nested = validationMessages(e.children ?? [], here);
    return own.length + nested.length > 0 ? [...own, ...nested] : [`${here} is invalid`];
  });
}

export async function startGateway(
  env: Record<string, string | undefined>,
  options: { handleSignals?: boolean } = {},
): Promise<NestFastifyApplication> {
  const config = loadConfigOrExit(gatewayConfigSchema, env);
  armCrashPoints(config);
  const logger = createRootLogger({ service: SERVICE, level: config.LOG_LEVEL, mixin: contextLogFields });
  const metrics = createMetricsRegistry(SERVICE);

  const adapter = new FastifyAdapter({
    bodyLimit: config.BODY_LIMIT_BYTES,
    genReqId: (req: IncomingMessage) => correlationIdOf(req),
    return503OnClosing: true,
    // Closes idle keep-alive sockets at shutdown; in-flight requests finish first.
    forceCloseConnections: 'idle',
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    GatewayModule.forRoot({
      config,
      masterKey: resolveMasterKey(config).derivationRoot,
      adminToken: resolveAdminToken(config),
      logger,
      metrics,
    }),
    adapter,
    { bufferLogs: true },
  );
  app.useLogger(app.get(Logger));
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      exceptionFactory: (errors) => GatewayException.validation(validationMessages(errors)),
    }),
  );
  registerHttpMetrics(app.getHttpAdapter().getInstance(), metrics);
  registerAccessLog(app.getHttpAdapter().getInstance(), logger);

  SwaggerModule.setup(
    'docs',
    app,
    SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Polystore gateway')
        .setDescription(`Tenant routes on <tenant>.${config.BASE_DOMAIN}; admin routes on ${config.BASE_DOMAIN}.`)
        .addBearerAuth()
        .build(),
    ),
  );

  await app.listen(config.GATEWAY_PORT, config.HTTP_HOST);
  if (options.handleSignals !== false) installShutdown(app, logger, config.SHUTDOWN_TIMEOUT_MS);
  const address = app.getHttpServer().address();
  logger.info({ port: typeof address === 'object' && address ? address.port : config.GATEWAY_PORT }, 'ready');
  return app;
}
