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
import { AuditHandler } from './audit/audit.handler.js';
import { AuditCheckpointRepository } from './audit/audit-checkpoint.repository.js';
import { CheckpointSigner } from './audit/audit-checkpoint.util.js';
import { AuditCheckpointer, type AuditCheckpointOptions } from './audit/audit-checkpointer.service.js';
import { AuditLog } from './audit/audit-log.service.js';
import { AuditVerifier } from './audit/audit-verifier.service.js';
import { AuditRepository } from './audit/audit.repository.js';
import type { SecureStoreConfig } from './config.js';
import { TenantKeyRepository } from './crypto/tenant-key.repository.js';
import { TenantKeyring } from './crypto/tenant-keyring.service.js';
import { CustomerRepository } from './customers/customer.repository.js';
import { CustomersHandler } from './customers/customers.handler.js';
import { DeviceCredentialLedger } from './devices/device-credential.ledger.js';
import { DeviceCredentialsHandler } from './devices/device-credentials.handler.js';
import { CustomersService } from './customers/customers.service.js';
import { HealthHandler } from './health/health.handler.js';
import { SagaStepsHandler } from './saga/saga-steps.handler.js';
import { SECURE_SCHEMA } from './secure.schema.js';
import { AUDIT_CHECKPOINT_OPTIONS, INSTANCE_ID, MASTER_KEYRING } from './secure.tokens.js';
import { TenantProvisioningHandler } from './tenants/tenant-provisioning.handler.js';
import { TenantProvisioningService } from './tenants/tenant-provisioning.service.js';

export interface SecureStoreWiring {
  readonly config: SecureStoreConfig;
  readonly keys: StoreKeys;
  readonly logger: Logger;
  readonly metrics: Registry;
}

/** The secure store: customer PII (sealed), tenant keys, tamper-evident audit log. */
@Module({})
export class SecureStoreModule {
  static forRoot({ config, keys, logger, metrics }: SecureStoreWiring): DynamicModule {
    // The secure store is started with `holdsMasterKey`, so its keys carry the master key's versions.
    const masterKeyring = keys.masterKeyring;
    if (!masterKeyring) throw new Error('the secure store needs the master key (holdsMasterKey)');
    return {
      module: SecureStoreModule,
      imports: [
        loggingModule(logger),
        MetricsModule.forRoot(metrics),
        MessagingModule.forRoot({
          url: config.NATS_URL,
          nkeySeed: config.NATS_NKEY_SEED,
          tls: natsTlsOf(config),
          name: `secure-store:${config.INSTANCE_ID}`,
          subjectPrefix: config.NATS_SUBJECT_PREFIX,
          defaultTimeoutMs: config.REQUEST_TIMEOUT_MS,
          metrics,
        }),
        CatalogModule.forRoot({
          systemDbUrl: config.SYSTEM_DB_URL,
          keys: { masterKey: masterKeyring.derivationRoot },
          cacheTtlMs: config.CATALOG_CACHE_TTL_MS,
          negativeCacheTtlMs: 2_000,
          poolSize: config.CATALOG_POOL_SIZE,
          applicationName: `polystore-secure-store:${config.INSTANCE_ID}`.slice(0, 63),
          store: { name: 'secure', key: keys.storeKey },
        }),
        TenantDataModule.forStore({
          store: 'secure',
          schema: SECURE_SCHEMA,
          limits: tenantDataLimits(config, 'SECURE'),
          applicationName: `polystore-secure:${config.INSTANCE_ID}`.slice(0, 63),
          storeKey: keys.storeKey,
        }),
      ],
      controllers: [
        CustomersHandler,
        AuditHandler,
        TenantProvisioningHandler,
        HealthHandler,
        SagaStepsHandler,
        DeviceCredentialsHandler,
        idempotencyPurgeHandler(Contracts.secure.idempotency.purgeExpired),
      ],
      providers: [
        { provide: MASTER_KEYRING, useValue: masterKeyring },
        { provide: INSTANCE_ID, useValue: config.INSTANCE_ID },
        TenantKeyRepository,
        TenantKeyring,
        CustomerRepository,
        CustomersService,
        DeviceCredentialLedger,
        AuditRepository,
        AuditLog,
        AuditVerifier,
        AuditCheckpointRepository,
        AuditCheckpointer,
        { provide: CheckpointSigner, useValue: new CheckpointSigner(masterKeyring) },
        {
          provide: AUDIT_CHECKPOINT_OPTIONS,
          useValue: {
            everyEntries: config.AUDIT_CHECKPOINT_EVERY,
            intervalMs: config.AUDIT_CHECKPOINT_INTERVAL_MS,
            concurrency: 4,
            timeoutMs: 120_000,
            shutdownGraceMs: 5_000,
          } satisfies AuditCheckpointOptions,
        },
        TenantProvisioningService,
        {
          provide: ParticipantFence,
          inject: [DataSourceRouter],
          useFactory: (router: DataSourceRouter) => new ParticipantFence(router),
        },
        {
          provide: IdempotentExecutor,
          inject: [DataSourceRouter],
          useFactory: (router: DataSourceRouter) =>
            new IdempotentExecutor(router, { ttlMs: config.IDEMPOTENCY_TTL_MS }),
        },
      ],
    };
  }
}
