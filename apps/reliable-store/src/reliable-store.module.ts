import { Module, type DynamicModule } from '@nestjs/common';
import { CatalogModule } from '#polystore/catalog';
import { DataSourceRouter } from '#polystore/data-router';
import { IdempotentExecutor } from '#polystore/idempotency';
import { ParticipantFence } from '#polystore/saga';
import { Contracts, MessagingModule } from '#polystore/messaging';
import { MetricsModule } from '#polystore/platform';
import {
  idempotencyPurgeHandler,
  loggingModule,
  TenantDataModule,
  tenantDataLimits,
  type StoreKeys,
  natsTlsOf,
} from '#polystore/runtime';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { RELIABLE_CONFIG, type ReliableStoreConfig } from './config.js';
import { DeviceRepository } from './devices/device.repository.js';
import { DevicesHandler } from './devices/devices.handler.js';
import { DevicesService } from './devices/devices.service.js';
import { HealthHandler } from './health/health.handler.js';
import { SagaStepsHandler } from './saga/saga-steps.handler.js';
import { OutboxRelay } from './outbox/outbox-relay.service.js';
import { OutboxRepository } from './outbox/outbox.repository.js';
import { RELIABLE_SCHEMA } from './reliable.schema.js';
import { TenantProvisioningHandler } from './tenants/tenant-provisioning.handler.js';
import { UsageHandler } from './usage/usage.handler.js';
import { UsageRepository } from './usage/usage.repository.js';
import { UsageService } from './usage/usage.service.js';

export interface ReliableStoreWiring {
  readonly config: ReliableStoreConfig;
  readonly keys: StoreKeys;
  readonly logger: Logger;
  readonly metrics: Registry;
}

/** The reliable store: device registry and usage ledger, idempotent, with a transactional outbox. */
@Module({})
export class ReliableStoreModule {
  static forRoot({ config, keys, logger, metrics }: ReliableStoreWiring): DynamicModule {
    return {
      module: ReliableStoreModule,
      imports: [
        loggingModule(logger),
        MetricsModule.forRoot(metrics),
        MessagingModule.forRoot({
          url: config.NATS_URL,
          nkeySeed: config.NATS_NKEY_SEED,
          tls: natsTlsOf(config),
          name: `reliable-store:${config.INSTANCE_ID}`,
          subjectPrefix: config.NATS_SUBJECT_PREFIX,
          defaultTimeoutMs: config.REQUEST_TIMEOUT_MS,
          metrics,
        }),
        CatalogModule.forRoot({
          systemDbUrl: config.SYSTEM_DB_URL,
          keys: { storeKeys: { reliable: keys.storeKey } },
          cacheTtlMs: config.CATALOG_CACHE_TTL_MS,
          negativeCacheTtlMs: 2_000,
          poolSize: config.CATALOG_POOL_SIZE,
          applicationName: `polystore-reliable-store:${config.INSTANCE_ID}`.slice(0, 63),
          store: { name: 'reliable', key: keys.storeKey },
        }),
        TenantDataModule.forStore({
          store: 'reliable',
          schema: RELIABLE_SCHEMA,
          limits: tenantDataLimits(config, 'RELIABLE'),
          applicationName: `polystore-reliable:${config.INSTANCE_ID}`.slice(0, 63),
          storeKey: keys.storeKey,
        }),
      ],
      controllers: [
        DevicesHandler,
        UsageHandler,
        TenantProvisioningHandler,
        HealthHandler,
        SagaStepsHandler,
        idempotencyPurgeHandler(Contracts.reliable.idempotency.purgeExpired),
      ],
      providers: [
        { provide: RELIABLE_CONFIG, useValue: config },
        {
          provide: IdempotentExecutor,
          inject: [DataSourceRouter],
          useFactory: (router: DataSourceRouter) =>
            new IdempotentExecutor(router, { ttlMs: config.IDEMPOTENCY_TTL_MS }),
        },
        DeviceRepository,
        DevicesService,
        UsageRepository,
        UsageService,
        OutboxRepository,
        OutboxRelay,
        {
          provide: ParticipantFence,
          inject: [DataSourceRouter],
          useFactory: (router: DataSourceRouter) => new ParticipantFence(router),
        },
      ],
    };
  }
}
