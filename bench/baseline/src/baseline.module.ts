import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CustomerRow } from './customer-row.entity.js';
import { CustomersController } from './customers.controller.js';

/**
 * Where the floor reads from, passed by bench/run.mjs: one tenant's `customers` table, in its
 * schema of the shared database (`schema` placement) or in its own database.
 */
export interface BaselineSettings {
  readonly databaseUrl: string;
  /** The tenant's schema (`schema` placements); unset: the database's default search path. */
  readonly schema?: string;
  readonly poolSize: number;
  readonly applicationName: string;
}

export const BASELINE_SETTINGS = Symbol('BASELINE_SETTINGS');

/** Opens the one DataSource of the floor: no tenancy, no router, no migrations. */
async function openDataSource(settings: BaselineSettings): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    url: settings.databaseUrl,
    ...(settings.schema ? { schema: settings.schema } : {}),
    entities: [CustomerRow],
    poolSize: settings.poolSize,
    applicationName: settings.applicationName,
    extra: { max: settings.poolSize },
  });
  return dataSource.initialize();
}

/**
 * The benchmark floor: a plain Nest app with one fixed TypeORM DataSource. It exists only to
 * measure what Polystore's read path costs on top of "Nest + Fastify + TypeORM + PostgreSQL".
 */
@Module({
  controllers: [CustomersController],
  providers: [{ provide: DataSource, inject: [BASELINE_SETTINGS], useFactory: openDataSource }],
})
export class BaselineModule implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  static forRoot(settings: BaselineSettings): DynamicModule {
    return { module: BaselineModule, providers: [{ provide: BASELINE_SETTINGS, useValue: settings }] };
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
