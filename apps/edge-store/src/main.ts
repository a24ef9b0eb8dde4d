import 'reflect-metadata';
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

const config = loadConfigOrExit(edgeStoreConfigSchema, process.env);
armCrashPoints(config);
const logger = createRootLogger({ service: SERVICE, level: config.LOG_LEVEL, mixin: contextLogFields });
const metrics = createMetricsRegistry(SERVICE);

await startStoreProcess({
  service: SERVICE,
  module: EdgeStoreModule.forRoot({
    config,
    masterKey: resolveMasterKey(config),
    mqttAdminPassword: resolveMqttAdminPassword(config),
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
});
