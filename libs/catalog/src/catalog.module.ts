import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AdminAuditService } from './admin-audit.service.js';
import { ConsoleSessionRevocations } from './console-session-revocations.service.js';
import { ApiKeyAdminService } from './api-key-admin.service.js';
import { TenantRetirementService } from './tenant-retirement.service.js';
import { TenantQuotaService } from './tenant-quota.service.js';
import { CatalogAdminService } from './catalog-admin.service.js';
import { CatalogService } from './catalog.service.js';
import { OperationRequests } from './operation-requests.service.js';
import { TenantBrowser } from './tenant-browser.service.js';
import { CATALOG_OPTIONS, SYSTEM_DATA_SOURCE, type CatalogOptions } from './catalog.tokens.js';
import { openSystemDatabase } from './system-database.js';

@Injectable()
class SystemDatabaseCloser implements OnApplicationShutdown {
  constructor(@Inject(SYSTEM_DATA_SOURCE) private readonly db: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.db.isInitialized) await this.db.destroy();
  }
}

/** Extra schema other libs keep in the system database (the saga log). */
export interface SystemSchemaExtension {
  readonly entities?: ReadonlyArray<new () => unknown>;
  readonly migrations?: ReadonlyArray<new () => unknown>;
}

/**
 * The catalog for one process: opens (and migrates) the system database, provides the cached
 * {@link CatalogService} and, for the gateway and the CLI, the {@link CatalogAdminService} and
 * {@link ApiKeyAdminService}, the {@link TenantQuotaService}, and for the console the
 * {@link TenantBrowser} (tenants a page at a time), the {@link AdminAuditService} and the
 * {@link ConsoleSessionRevocations} (sessions logged out), and for the
 * console and `ops worker` the {@link OperationRequests} (moves and migrations asked for).
 * Needs `MessagingModule` (invalidation events).
 */
@Module({})
export class CatalogModule {
  static forRoot(options: CatalogOptions, extension: SystemSchemaExtension = {}): DynamicModule {
    return {
      module: CatalogModule,
      global: true,
      providers: [
        { provide: CATALOG_OPTIONS, useValue: options },
        {
          provide: SYSTEM_DATA_SOURCE,
          useFactory: () =>
            openSystemDatabase({
              url: options.systemDbUrl,
              poolSize: options.poolSize,
              applicationName: options.applicationName,
              extraEntities: extension.entities,
              extraMigrations: extension.migrations,
              ...(options.store ? { store: options.store } : {}),
            }),
        },
        CatalogService,
        CatalogAdminService,
        ApiKeyAdminService,
        TenantRetirementService,
        TenantQuotaService,
        TenantBrowser,
        AdminAuditService,
        ConsoleSessionRevocations,
        OperationRequests,
        SystemDatabaseCloser,
      ],
      exports: [
        SYSTEM_DATA_SOURCE,
        CatalogService,
        CatalogAdminService,
        ApiKeyAdminService,
        TenantRetirementService,
        TenantQuotaService,
        TenantBrowser,
        AdminAuditService,
        ConsoleSessionRevocations,
        OperationRequests,
      ],
    };
  }
}
