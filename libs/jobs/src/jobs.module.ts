import {
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type InjectionToken,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { CatalogAdminService } from '#polystore/catalog';
import { MessageClient } from '#polystore/messaging';
import type { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { JobRunLog } from './job-run-log.js';
import { JobScheduler } from './job-scheduler.js';
import type { TenantJob } from './tenant-job.js';

export interface JobsModuleOptions {
  /** The system database (the run log lives there; add `JOB_MIGRATIONS` to its migrations). */
  readonly dataSource: InjectionToken;
  readonly owner: string;
  /** The jobs this process schedules (none: it still runs nothing, but resumes nothing either). */
  readonly jobs: readonly TenantJob[];
  readonly leaseMs: number;
  readonly tickMs: number;
  /** Per-job interval overrides. */
  readonly intervals?: Readonly<Record<string, number>>;
  /** Where the job metrics go (`polystore_job_*`); none when absent. */
  readonly metrics?: Registry;
}

@Injectable()
class JobsLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(JobScheduler) private readonly scheduler: JobScheduler) {}

  onApplicationBootstrap(): void {
    this.scheduler.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.scheduler.stop();
  }
}

/**
 * The scheduler of one process: its jobs run for every active tenant on their schedule, once
 * across every process that has this module (see {@link JobScheduler}). Needs the catalog and
 * messaging modules.
 */
@Module({})
export class JobsModule {
  static forRoot(options: JobsModuleOptions): DynamicModule {
    return {
      module: JobsModule,
      global: true,
      providers: [
        {
          provide: JobScheduler,
          inject: [options.dataSource, CatalogAdminService, MessageClient],
          useFactory: (db: DataSource, catalog: CatalogAdminService, messages: MessageClient) =>
            new JobScheduler({
              owner: options.owner,
              jobs: options.jobs,
              log: new JobRunLog(db),
              messages,
              tenants: async () =>
                (await catalog.listTenants()).filter((t) => t.status === 'active').map((t) => t.slug),
              leaseMs: options.leaseMs,
              tickMs: options.jobs.length > 0 ? options.tickMs : 0,
              ...(options.intervals ? { intervals: options.intervals } : {}),
              ...(options.metrics ? { metrics: options.metrics } : {}),
            }),
        },
        JobsLifecycle,
      ],
      exports: [JobScheduler],
    };
  }
}
