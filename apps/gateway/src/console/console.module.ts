import { Module, type DynamicModule } from '@nestjs/common';
import { ADMIN_TOKEN, GATEWAY_CONFIG, type GatewayConfig } from '../config.js';
import { CurrentTenant } from '../context/current-tenant.service.js';
import { SagasService } from '../sagas/sagas.service.js';
import { StoreDirectory } from '../stores/store-directory.js';
import { ConsoleAssets } from './console-assets.js';
import { ConsoleAssetsController } from './console-assets.controller.js';
import { ConsoleAuditController } from './console-audit.controller.js';
import { ConsoleAudit } from './console-audit.service.js';
import { ConsoleAuthController } from './console-auth.controller.js';
import { ConsoleErrorFilter } from './console-error.filter.js';
import { ConsoleInsightsController } from './console-insights.controller.js';
import { ConsoleJobsController } from './console-jobs.controller.js';
import { ConsoleOperationsController } from './console-operations.controller.js';
import { ConsoleSagasController } from './console-sagas.controller.js';
import { ConsoleSampler } from './console-sampler.service.js';
import { ConsoleServersController } from './console-servers.controller.js';
import { CONSOLE_SESSIONS, ConsoleSessionGuard } from './console-session.guard.js';
import { ConsoleSessions } from './console-session.util.js';
import { ConsoleTenantsController } from './console-tenants.controller.js';
import { JobRunsReader } from './job-runs.service.js';
import { MoveTargets } from './move-targets.service.js';
import { StoreHealthPings } from './store-health-pings.service.js';
import { StoreHealth } from './store-health.service.js';
import { StorePoolsReader } from './store-pools.service.js';
import { TenantErrorRatesHook } from './tenant-error-rates.service.js';
import { TenantInsightsReader } from './tenant-insights.service.js';

export interface ConsoleWiring {
  readonly config: GatewayConfig;
  readonly adminToken: string;
}

/**
 * The operations console (docs/console.md): server-rendered HTML pages with htmx on the admin
 * port (`/console`, `admin-port.ts`), behind a stateless session signed with a key derived from
 * the admin token. `CONSOLE_ENABLED=false` registers no route (every `/console` path is 404).
 * Actions go through the admin API's own services (the catalog's API-key admin service, the
 * gateway's {@link SagasService}): their effects and errors are the admin API's. SagasService,
 * CurrentTenant and StoreDirectory are provided here again: they hold no state, and their
 * dependencies are global modules (catalog, sagas, messaging).
 */
@Module({})
export class ConsoleModule {
  static forRoot({ config, adminToken }: ConsoleWiring): DynamicModule {
    return {
      module: ConsoleModule,
      controllers: config.CONSOLE_ENABLED
        ? [
            ConsoleAuthController,
            ConsoleAssetsController,
            ConsoleTenantsController,
            ConsoleInsightsController,
            ConsoleSagasController,
            ConsoleAuditController,
            ConsoleServersController,
            ConsoleJobsController,
            ConsoleOperationsController,
          ]
        : [],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: ADMIN_TOKEN, useValue: adminToken },
        { provide: CONSOLE_SESSIONS, useValue: new ConsoleSessions(adminToken, config.CONSOLE_SESSION_TTL_S) },
        ConsoleSessionGuard,
        ConsoleErrorFilter,
        ConsoleAudit,
        ConsoleAssets,
        StoreHealthPings,
        StoreHealth,
        StorePoolsReader,
        ConsoleSampler,
        TenantErrorRatesHook,
        TenantInsightsReader,
        JobRunsReader,
        MoveTargets,
        StoreDirectory,
        SagasService,
        CurrentTenant,
      ],
    };
  }
}
