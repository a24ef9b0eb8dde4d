import { Module, type DynamicModule } from '@nestjs/common';
import { NaiveCustomersController } from './customers.controller.js';
import { TenantConnection } from './tenant-connection.js';
import { NAIVE_SETTINGS, TenantDataSources, type NaiveSettings } from './tenant-data-sources.js';

/**
 * The naive multi-tenant baseline: what a Nest app often starts as. A request-scoped tenant
 * connection resolved from the Host header, one TypeORM DataSource per tenant kept in a Map.
 */
@Module({
  controllers: [NaiveCustomersController],
  providers: [TenantDataSources, TenantConnection],
})
export class NaiveModule {
  static forRoot(settings: NaiveSettings): DynamicModule {
    return { module: NaiveModule, providers: [{ provide: NAIVE_SETTINGS, useValue: settings }] };
  }
}
