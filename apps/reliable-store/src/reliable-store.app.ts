import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createMetricsRegistry, createRootLogger } from '#polystore/platform';
import { armCrashPoints, loadConfigOrExit, resolveMasterKey, startStoreProcess } from '#polystore/runtime';
import { contextLogFields } from '#polystore/tenancy';
import { reliableStoreConfigSchema } from './config.js';
import { ReliableStoreModule } from './reliable-store.module.js';

const SERVICE = 'reliable-store';

/**
 * Starts the reliable store on the configuration read from `env` (validated; a bad variable
 * is printed and the process exits 1). `main.ts` runs it alone; the quickstart runs every app in
 * one process and passes `handleSignals: false`.
 */
export async function startReliableStore(
  env: Record<string, string | undefined>,
  options: { handleSignals?: boolean } = {},
): Promise<NestFastifyApplication> {
  const config = loadConfigOrExit(reliableStoreConfigSchema, env);
  armCrashPoints(config);
  const logger = createRootLogger({ service: SERVICE, level: config.LOG_LEVEL, mixin: contextLogFields });
  const metrics = createMetricsRegistry(SERVICE);

  return startStoreProcess({
    service: SERVICE,
    module: ReliableStoreModule.forRoot({ config, masterKey: resolveMasterKey(config), logger, metrics }),
    logger,
    httpPort: config.RELIABLE_HTTP_PORT,
    httpHost: config.HTTP_HOST,
    natsUrl: config.NATS_URL,
    subjectPrefix: config.NATS_SUBJECT_PREFIX,
    instanceId: config.INSTANCE_ID,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    handleSignals: options.handleSignals,
  });
}
