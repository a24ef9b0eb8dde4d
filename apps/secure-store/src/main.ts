import 'reflect-metadata';
import { createMetricsRegistry, createRootLogger } from '#polystore/platform';
import { armCrashPoints, loadConfigOrExit, resolveMasterKey, startStoreProcess } from '#polystore/runtime';
import { contextLogFields } from '#polystore/tenancy';
import { secureStoreConfigSchema } from './config.js';
import { SecureStoreModule } from './secure-store.module.js';

const SERVICE = 'secure-store';

const config = loadConfigOrExit(secureStoreConfigSchema, process.env);
armCrashPoints(config);
const logger = createRootLogger({ service: SERVICE, level: config.LOG_LEVEL, mixin: contextLogFields });
const metrics = createMetricsRegistry(SERVICE);

await startStoreProcess({
  service: SERVICE,
  module: SecureStoreModule.forRoot({ config, masterKey: resolveMasterKey(config), logger, metrics }),
  logger,
  httpPort: config.SECURE_HTTP_PORT,
  httpHost: config.HTTP_HOST,
  natsUrl: config.NATS_URL,
  subjectPrefix: config.NATS_SUBJECT_PREFIX,
  instanceId: config.INSTANCE_ID,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
});
