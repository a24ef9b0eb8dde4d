import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { CatalogModule, SYSTEM_DATA_SOURCE } from '#polystore/catalog';
import { BUILTIN_JOBS, JOB_MIGRATIONS, JobsModule } from '#polystore/jobs';
import { SAGA_MIGRATIONS, SagaModule } from '#polystore/saga';
import { MessagingModule } from '#polystore/messaging';
import { MetricsModule } from '#polystore/platform';
import { HttpErrorFilter, loggingModule, contextSignerFor, natsTlsOf } from '#polystore/runtime';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ApiKeyUsage } from './api-keys/api-key-usage.service.js';
import { ApiKeysService } from './api-keys/api-keys.service.js';
import { TenantAdminService } from './admin/tenant-admin.service.js';
import { TenantPurger } from './admin/tenant-purger.service.js';
import { AdminGuard } from './auth/admin.guard.js';
import { TenantAuthGuard } from './auth/tenant-auth.guard.js';
import { RequestLimits } from './auth/request-limits.service.js';
import { ADMIN_TOKEN, GATEWAY_CONFIG, MASTER_KEY, type GatewayConfig } from './config.js';
import { LegacySecretsReseal } from './admin/legacy-secrets.reseal.js';
import { DeviceRegistrationService } from './devices/device-registration.service.js';
import { SagaRegistry } from './sagas/saga-registry.service.js';
import { SagasService } from './sagas/sagas.service.js';
import { CurrentTenant } from './context/current-tenant.service.js';
import { RequestContextInterceptor } from './context/request-context.interceptor.js';
import { CustomersService } from './customers/customers.service.js';
import { DevicesService } from './devices/devices.service.js';
import { QuotaService } from './quotas/quota.service.js';
import { TenantQuotasAdmin } from './quotas/tenant-quotas.admin.js';
import { StoreDirectory } from './stores/store-directory.js';
import { GATEWAY_CONTROLLERS } from './gateway.controllers.js';
import { ConsoleModule } from './console/console.module.js';

export interface GatewayWiring {
  readonly config: GatewayConfig;
  /**
   * The master key's derivation root (`MasterKeyring.derivationRoot`): the gateway wraps no
   * tenant key, it only derives (store keys, server passwords in the catalog).
   */
  readonly masterKey: Buffer;
  readonly adminToken: string;
  readonly logger: Logger;
  readonly metrics: Registry;
}

/** The HTTP entry: tenant resolution and auth, validation, admin API, calls to the stores over NATS. */
@Module({})
export class GatewayModule {
  static forRoot({ config, masterKey, adminToken, logger, metrics }: GatewayWiring): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        loggingModule(logger),
        MetricsModule.forRoot(metrics),
        TerminusModule.forRoot({ logger: false }),
        MessagingModule.forRoot({
          url: config.NATS_URL,
          nkeySeed: config.NATS_NKEY_SEED,
          tls: natsTlsOf(config),
          name: `gateway:${config.INSTANCE_ID}`,
          subjectPrefix: config.NATS_SUBJECT_PREFIX,
          defaultTimeoutMs: config.REQUEST_TIMEOUT_MS,
          metrics,
          signer: contextSignerFor(config),
        }),
        CatalogModule.forRoot(
          {
            systemDbUrl: config.SYSTEM_DB_URL,
            keys: { masterKey },
            cacheTtlMs: config.CATALOG_CACHE_TTL_MS,
            negativeCacheTtlMs: 2_000,
            staleWindowMs: config.CATALOG_STALE_MS,
            metrics,
            poolSize: config.CATALOG_POOL_SIZE,
            applicationName: `polystore-gateway:${config.INSTANCE_ID}`.slice(0, 63),
          },
          { migrations: [...SAGA_MIGRATIONS, ...JOB_MIGRATIONS] },
        ),
        SagaModule.forRoot({
          dataSource: SYSTEM_DATA_SOURCE,
          owner: `gateway:${config.INSTANCE_ID}`,
          leaseMs: config.SAGA_LEASE_MS,
          sweepIntervalMs: config.SAGA_SWEEP_INTERVAL_MS,
          unknownOutcomeWindowMs: config.SAGA_UNKNOWN_OUTCOME_WINDOW_MS,
          compensationWindowMs: config.SAGA_COMPENSATION_WINDOW_MS,
          operatorKeyRetentionMs: config.IDEMPOTENCY_TTL_MS,
          metrics,
          maxConcurrentRecoveries: 100,
        }),
        JobsModule.forRoot({
          dataSource: SYSTEM_DATA_SOURCE,
          owner: `gateway:${config.INSTANCE_ID}`,
          jobs: BUILTIN_JOBS.filter((job) => config.JOBS.includes(job.name)),
          leaseMs: config.JOB_LEASE_MS,
          tickMs: config.JOB_TICK_MS,
          intervals: config.JOB_INTERVALS,
          metrics,
        }),
        ConsoleModule.forRoot({ config, adminToken }),
      ],
      controllers: [...GATEWAY_CONTROLLERS],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: ADMIN_TOKEN, useValue: adminToken },
        { provide: MASTER_KEY, useValue: masterKey },
        SagaRegistry,
        SagasService,
        DeviceRegistrationService,
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        { provide: APP_INTERCEPTOR, useClass: RequestContextInterceptor },
        StoreDirectory,
        TenantAuthGuard,
        RequestLimits,
        AdminGuard,
        TenantAdminService,
        LegacySecretsReseal,
        CustomersService,
        DevicesService,
        ApiKeysService,
        ApiKeyUsage,
        CurrentTenant,
        TenantPurger,
        QuotaService,
        TenantQuotasAdmin,
      ],
    };
  }
}
