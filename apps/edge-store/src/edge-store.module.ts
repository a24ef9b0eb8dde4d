import { Module, type DynamicModule } from '@nestjs/common';
import { CatalogModule } from '#polystore/catalog';
import { MessagingModule } from '#polystore/messaging';
import { DataSourceRouter } from '#polystore/data-router';
import { ParticipantFence } from '#polystore/saga';
import { METRICS_REGISTRY, MetricsModule } from '#polystore/platform';
import { loggingModule, TenantDataModule, tenantDataLimits, type StoreKeys, natsTlsOf } from '#polystore/runtime';
import { runAsTenant, type TenantSlug } from '#polystore/tenancy';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { BrokerKeys, DeviceCredentialIssuer } from '#polystore/device-broker';
import { DeviceRevocations } from './broker/device-revocations.js';
import { TelemetryBroker } from './broker/telemetry-broker.js';
import type { EdgeStoreConfig } from './config.js';
import { DeviceCredentialRepository } from './credentials/device-credential.repository.js';
import { DeviceCredentialsService } from './credentials/device-credentials.service.js';
import { DevicesHandler } from './credentials/devices.handler.js';
import { edgeSchema } from './edge.schema.js';
import { DEVICE_REVOCATIONS, EDGE_CONFIG, TELEMETRY_BROKER } from './edge.tokens.js';
import { HealthHandler } from './health/health.handler.js';
import { SagaStepsHandler } from './saga/saga-steps.handler.js';
import { HttpIngestController } from './ingest/http-ingest.controller.js';
import { IngestBuffer } from './ingest/ingest-buffer.js';
import { DeviceRateLimiter } from './ingest/device-rate-limiter.js';
import { IngestService } from './ingest/ingest.service.js';
import { StreamConsumer } from './ingest/stream-consumer.service.js';
import { RetentionService } from './retention/retention.service.js';
import { ReadingRepository } from './telemetry/reading.repository.js';
import { TelemetryHandler } from './telemetry/telemetry.handler.js';
import { TelemetryService } from './telemetry/telemetry.service.js';
import { TenantProvisioningHandler } from './tenants/tenant-provisioning.handler.js';
import { TenantBacklogHandler } from './ingest/tenant-backlog.handler.js';

export interface EdgeStoreWiring {
  readonly config: EdgeStoreConfig;
  readonly keys: StoreKeys;
  /** Root of the device broker's keys (device credentials are signed with a key derived from it). */
  readonly deviceBrokerKey: Buffer;
  readonly logger: Logger;
  readonly metrics: Registry;
}

/**
 * The edge store: device credentials, ingest from the device broker's telemetry stream (MQTT and
 * HTTP), the telemetry read side, retention.
 */
@Module({})
export class EdgeStoreModule {
  static forRoot({ config, keys: storeKeys, deviceBrokerKey, logger, metrics }: EdgeStoreWiring): DynamicModule {
    const keys = new BrokerKeys(deviceBrokerKey);
    const servers = config.DEVICE_BROKER_URL.split(',').map((url) => url.trim());
    const withBroker = config.DEVICE_BROKER === 'nats';
    const name = `edge-store:${config.INSTANCE_ID}`;
    return {
      module: EdgeStoreModule,
      imports: [
        loggingModule(logger),
        MetricsModule.forRoot(metrics),
        MessagingModule.forRoot({
          url: config.NATS_URL,
          nkeySeed: config.NATS_NKEY_SEED,
          tls: natsTlsOf(config),
          name: `edge-store:${config.INSTANCE_ID}`,
          subjectPrefix: config.NATS_SUBJECT_PREFIX,
          defaultTimeoutMs: config.REQUEST_TIMEOUT_MS,
          metrics,
        }),
        CatalogModule.forRoot({
          systemDbUrl: config.SYSTEM_DB_URL,
          keys: { storeKeys: { edge: storeKeys.storeKey } },
          cacheTtlMs: config.CATALOG_CACHE_TTL_MS,
          negativeCacheTtlMs: 2_000,
          poolSize: config.CATALOG_POOL_SIZE,
          applicationName: `polystore-edge-store:${config.INSTANCE_ID}`.slice(0, 63),
          store: { name: 'edge', key: storeKeys.storeKey },
        }),
        TenantDataModule.forStore({
          store: 'edge',
          schema: edgeSchema,
          limits: tenantDataLimits(config, 'EDGE'),
          applicationName: `polystore-edge:${config.INSTANCE_ID}`.slice(0, 63),
          storeKey: storeKeys.storeKey,
        }),
      ],
      controllers: [
        DevicesHandler,
        TelemetryHandler,
        TenantProvisioningHandler,
        TenantBacklogHandler,
        HealthHandler,
        HttpIngestController,
        SagaStepsHandler,
      ],
      providers: [
        { provide: EDGE_CONFIG, useValue: config },
        {
          provide: DeviceCredentialIssuer,
          useValue: new DeviceCredentialIssuer(keys, config.DEVICE_CREDENTIAL_TTL_DAYS * 86_400),
        },
        {
          provide: TELEMETRY_BROKER,
          useFactory: () =>
            withBroker
              ? TelemetryBroker.connect(servers, keys, name, {
                  replicas: config.TELEMETRY_STREAM_REPLICAS,
                  maxBytes: config.TELEMETRY_STREAM_MAX_BYTES,
                  maxAgeHours: config.TELEMETRY_STREAM_MAX_AGE_HOURS,
                  maxMessageBytes: config.TELEMETRY_MAX_MESSAGE_BYTES,
                  consumer: config.INGEST_CONSUMER,
                  maxInFlight: config.INGEST_MAX_IN_FLIGHT,
                  redeliverAfterMs: config.INGEST_REDELIVER_AFTER_MS,
                })
              : null,
        },
        {
          provide: DEVICE_REVOCATIONS,
          inject: [TELEMETRY_BROKER],
          useFactory: (broker: TelemetryBroker | null) =>
            broker
              ? DeviceRevocations.open(broker, servers, keys, {
                  ttlSeconds: config.DEVICE_CREDENTIAL_TTL_DAYS * 86_400,
                  replicas: config.TELEMETRY_STREAM_REPLICAS,
                  name,
                })
              : null,
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
          inject: [IngestBuffer, METRICS_REGISTRY, TELEMETRY_BROKER],
          useFactory: (buffer: IngestBuffer, registry: Registry, broker: TelemetryBroker | null) =>
            new IngestService(buffer, registry, broker, new DeviceRateLimiter(config.DEVICE_RATE_LIMIT_PER_S)),
        },
        DeviceCredentialRepository,
        DeviceCredentialsService,
        ReadingRepository,
        TelemetryService,
        ...(withBroker ? [StreamConsumer] : []),
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
