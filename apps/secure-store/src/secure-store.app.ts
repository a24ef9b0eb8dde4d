import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createMetricsRegistry, createRootLogger } from '#polystore/platform';
import { armCrashPoints, loadConfigOrExit, resolveMasterKey, startStoreProcess } from '#polystore/runtime';
import { contextLogFields } from '#polystore/tenancy';
import { secureStoreConfigSchema } from './config.js';
import { SecureStoreModule } from './secure-store.module.js';

const SERVICE = 'secure-store';

/**
 * Starts the secure store on the configuration read from `env` (validated; a bad variable
 * is printed and the process exits 1). `main.ts` runs it alone; the quickstart runs every app in
 * one process and passes `handleSignals: false`.
 */
export async function startSecureStore(
  env: Record<string, string | undefined>,
  options: { handleSignals?: boolean } = {},
): Promise<NestFastifyApplication> {
  const config = loadConfigOrExit(secureStoreConfigSchema, env);
  armCrashPoints(config);
  const logger = createRootLogger({ service: SERVICE, level: config.LOG_LEVEL, mixin: contextLogFields });
  const metrics = createMetricsRegistry(SERVICE);

  return startStoreProcess({
    service: SERVICE,
    module: SecureStoreModule.forRoot({ config, masterKey: resolveMasterKey(config), logger, metrics }),
    logger,
    httpPort: config.SECURE_HTTP_PORT,
    httpHost: config.HTTP_HOST,
    natsUrl: config.NATS_URL,
    subjectPrefix: config.NATS_SUBJECT_PREFIX,
    instanceId: config.INSTANCE_ID,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    handleSignals: options.handleSignals,
  });
}
