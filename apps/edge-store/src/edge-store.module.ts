import { Module, type DynamicModule } from '@nestjs/common';
import { CatalogModule } from '#polystore/catalog';
import { MessagingModule } from '#polystore/messaging';
import { DataSourceRouter } from '#polystore/data-router';
import { ParticipantFence } from '#polystore/saga';
import { METRICS_REGISTRY, MetricsModule } from '#polystore/platform';
import { loggingModule, TenantDataModule, tenantDataLimits } from '#polystore/runtime';
import { runAsTenant, type TenantSlug } from '#polystore/tenancy';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { HttpOnlyBrokerAccess } from './broker/http-only-broker-access.js';
import { MosquittoDynamicSecurity } from './broker/mosquitto-dynamic-security.js';
import type { EdgeStoreConfig } from './config.js';
import { DeviceCredentialRepository } from './credentials/device-credential.repository.js';
import { DeviceCredentialsService } from './credentials/device-credentials.service.js';
import { DevicesHandler } from './credentials/devices.handler.js';
import { edgeSchema } from './edge.schema.js';
import { BROKER_ACCESS, EDGE_CONFIG, MASTER_KEY } from './edge.tokens.js';
import { HealthHandler } from './health/health.handler.js';
import { SagaStepsHandler } from './saga/saga-steps.handler.js';
import { HttpIngestController } from './ingest/http-ingest.controller.js';
import { IngestBuffer } from './ingest/ingest-buffer.js';
import { IngestService } from './ingest/ingest.service.js';
import { MqttConsumer } from './ingest/mqtt-consumer.service.js';
import { RetentionService } from './retention/retention.service.js';
import { ReadingRepository } from './telemetry/reading.repository.js';
import { TelemetryHandler } from './telemetry/telemetry.handler.js';
import { TelemetryService } from './telemetry/telemetry.service.js';
import { TenantProvisioningHandler } from './tenants/tenant-provisioning.handler.js';

export interface EdgeStoreWiring {
  readonly config: EdgeStoreConfig;
  readonly masterKey: Buffer;
  /** The dynsec admin's password (unused when `MQTT_ENABLED=false`). */
  readonly mqttAdminPassword: string;
  readonly logger: Logger;
  readonly metrics: Registry;
}

/** The edge store: device credentials, MQTT and HTTP ingest, the telemetry read side, retention. */
@Module({})
export class EdgeStoreModule {
  static forRoot({ config, masterKey, mqttAdminPassword, logger, metrics }: EdgeStoreWiring): DynamicModule {
    return {
      module: EdgeStoreModule,
      imports: [
        loggingModule(logger),
        MetricsModule.forRoot(metrics),
        MessagingModule.forRoot({
          url: config.NATS_URL,
          name: `edge-store:${config.INSTANCE_ID}`,
          subjectPrefix: config.NATS_SUBJECT_PREFIX,
          defaultTimeoutMs: config.REQUEST_TIMEOUT_MS,
          metrics,
        }),
        CatalogModule.forRoot({
          systemDbUrl: config.SYSTEM_DB_URL,
          masterKey,
          cacheTtlMs: config.CATALOG_CACHE_TTL_MS,
          negativeCacheTtlMs: 2_000,
          poolSize: config.CATALOG_POOL_SIZE,
          applicationName: `polystore-edge-store:${config.INSTANCE_ID}`.slice(0, 63),
        }),
        TenantDataModule.forStore({
          store: 'edge',
          schema: edgeSchema,
          limits: tenantDataLimits(config, 'EDGE'),
          applicationName: `polystore-edge:${config.INSTANCE_ID}`.slice(0, 63),
          masterKey,
        }),
      ],
      controllers: [
        DevicesHandler,
        TelemetryHandler,
        TenantProvisioningHandler,
        HealthHandler,
        HttpIngestController,
        SagaStepsHandler,
      ],
      providers: [
        { provide: EDGE_CONFIG, useValue: config },
        { provide: MASTER_KEY, useValue: masterKey },
        {
          provide: BROKER_ACCESS,
          useFactory: () =>
            config.MQTT_ENABLED
              ? MosquittoDynamicSecurity.connect({
                  url: withoutCredentials(config.MQTT_URL),
                  username: config.MQTT_ADMIN_USERNAME,
                  password: mqttAdminPassword,
                })
              : new HttpOnlyBrokerAccess(),
        },
        {
          provide: IngestBuffer,
          inject: [ReadingRepository],
          useFactory: (readings: ReadingRepository) =>
            new IngestBuffer(
              async (tenant: TenantSlug, rows) => {
                await runAsTenant(tenant, () => readings.insertBatch(rows), 30_000);
              },
              {
                capacity: config.INGEST_MAX_QUEUED_READINGS,
                maxBatchRows: config.INGEST_BATCH_MAX_ROWS,
                maxDelayMs: config.INGEST_BATCH_MAX_DELAY_MS,
                maxConcurrentWrites: config.INGEST_MAX_CONCURRENT_WRITES,
                retryInitialMs: 100,
                retryMaxMs: 5_000,
              },
            ),
        },
        {
          provide: IngestService,
          inject: [IngestBuffer, ReadingRepository, METRICS_REGISTRY],
          useFactory: (buffer: IngestBuffer, readings: ReadingRepository, registry: Registry) =>
            new IngestService(buffer, readings, registry),
        },
        DeviceCredentialRepository,
        DeviceCredentialsService,
        ReadingRepository,
        TelemetryService,
        ...(config.MQTT_ENABLED ? [MqttConsumer] : []),
        RetentionService,
        {
          provide: ParticipantFence,
          inject: [DataSourceRouter],
          useFactory: (router: DataSourceRouter) => new ParticipantFence(router),
        },
      ],
    };
  }
}

function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}
