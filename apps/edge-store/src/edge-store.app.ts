import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createMetricsRegistry, createRootLogger } from '#polystore/platform';
import {
  armCrashPoints,
  loadConfigOrExit,
  resolveMasterKey,
  resolveMqttAdminPassword,
  startStoreProcess,
} from '#polystore/runtime';
import { contextLogFields } from '#polystore/tenancy';
import { edgeStoreConfigSchema } from './config.js';
import { EdgeStoreModule } from './edge-store.module.js';

const SERVICE = 'edge-store';

/**
 * Starts the edge store on the configuration read from `env` (validated; a bad variable
 * is printed and the process exits 1). `main.ts` runs it alone; the quickstart runs every app in
 * one process and passes `handleSignals: false`.
 */
export async function startEdgeStore(
  env: Record<string, string | undefined>,
  options: { handleSignals?: boolean } = {},
): Promise<NestFastifyApplication> {
  const config = loadConfigOrExit(edgeStoreConfigSchema, env);
  armCrashPoints(config);
  const logger = createRootLogger({ service: SERVICE, level: config.LOG_LEVEL, mixin: contextLogFields });
  const metrics = createMetricsRegistry(SERVICE);

  return startStoreProcess({
    service: SERVICE,
    module: EdgeStoreModule.forRoot({
      config,
      masterKey: resolveMasterKey(config),
      mqttAdminPassword: config.MQTT_ENABLED ? resolveMqttAdminPassword(config) : '',
      logger,
      metrics,
    }),
    logger,
    httpPort: config.EDGE_HTTP_PORT,
    httpHost: config.HTTP_HOST,
    natsUrl: config.NATS_URL,
    subjectPrefix: config.NATS_SUBJECT_PREFIX,
    instanceId: config.INSTANCE_ID,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    bodyLimit: config.INGEST_BODY_LIMIT_BYTES,
    accessLog: true,
    handleSignals: options.handleSignals,
  });
}
