import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
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
import { AdminPort } from './admin-port.js';
import { registerConsoleHeaders } from './console/console-headers.js';
import { RequestLimits } from './auth/request-limits.service.js';
import { gatewayConfigSchema } from './config.js';
import { GatewayModule } from './gateway.module.js';
import { registerHttpMetrics } from './http-metrics.js';
import { createGatewayDocument } from './openapi/openapi-document.js';

const SERVICE = 'gateway';

/** The admin port of each gateway this process started (the quickstart prints it). */
const adminPorts = new WeakMap<INestApplication, AdminPort>();

/** Where a gateway started by {@link startGateway} serves its admin API, metrics, OpenAPI and readiness. */
export function adminAddressOf(gateway: INestApplication): AddressInfo {
  const address = adminPorts.get(gateway)?.address;
  if (!address) throw new Error('not a running gateway');
  return address;
}

/**
 * Starts the gateway on the configuration read from `env` (validated; a bad variable is printed
 * and the process exits 1). `main.ts` runs it alone; the quickstart runs every app in one process
 * and passes `handleSignals: false`. Request bodies and query strings are validated per route by
 * the contract lib's schemas (`@BodyOf`, `@QueryOf`: request-schema.decorator.ts), not by a
 * global pipe.
 */
export async function startGateway(
  env: Record<string, string | undefined>,
  options: { handleSignals?: boolean } = {},
): Promise<NestFastifyApplication> {
  const config = loadConfigOrExit(gatewayConfigSchema, env);
  armCrashPoints(config);
  const logger = createRootLogger({ service: SERVICE, level: config.LOG_LEVEL, mixin: contextLogFields });
  const metrics = createMetricsRegistry(SERVICE);

  // Two listeners, one Fastify instance: see admin-port.ts.
  const adminPort = new AdminPort();
  const adapter = new FastifyAdapter({
    serverFactory: adminPort.serverFactory,
    bodyLimit: config.BODY_LIMIT_BYTES,
    // Slow clients (headers or body trickled in) get 408; silent sockets are closed.
    requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
    connectionTimeout: config.HTTP_CONNECTION_TIMEOUT_MS,
    keepAliveTimeout: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    // The client address the per-address limit counts: the proxies' X-Forwarded-For only if trusted.
    trustProxy: config.TRUST_PROXY?.join(',') ?? false,
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
  adminPort.install(app.getHttpAdapter().getInstance());
  registerConsoleHeaders(app.getHttpAdapter().getInstance());
  await app.get(RequestLimits).install();
  app.useLogger(app.get(Logger));
  registerHttpMetrics(app.getHttpAdapter().getInstance(), metrics);
  registerAccessLog(app.getHttpAdapter().getInstance(), logger);

  SwaggerModule.setup('docs', app, createGatewayDocument(app));

  await app.listen(config.GATEWAY_PORT, config.HTTP_HOST);
  const admin = await adminPort.listen(config.ADMIN_PORT, config.ADMIN_HOST).catch(async (error: unknown) => {
    await app.close();
    throw error;
  });
  adminPorts.set(app, adminPort);
  if (options.handleSignals !== false) installShutdown(app, logger, config.SHUTDOWN_TIMEOUT_MS);
  const address = app.getHttpServer().address() as AddressInfo;
  logger.info({ port: address.port, host: address.address, adminPort: admin.port, adminHost: admin.address }, 'ready');
  return app;
}
