import { Module, type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  CatalogAdminService,
  CatalogModule,
  CatalogService,
  OperationRequests,
  SYSTEM_DATA_SOURCE,
} from '#polystore/catalog';
import { JOB_MIGRATIONS, JobRunLog, JobScheduler, type TenantJob } from '#polystore/jobs';
import { MessageClient, MessagingModule } from '#polystore/messaging';
import { createRootLogger, type MasterKeyring } from '#polystore/platform';
import {
  jsonRequest,
  loggingModule,
  resolveAdminToken,
  contextSignerFor,
  resolveMasterKey,
  natsTlsOf,
} from '#polystore/runtime';
import { SAGA_MIGRATIONS } from '#polystore/saga';
import { contextLogFields } from '#polystore/tenancy';
import { Logger } from 'nestjs-pino';
import { pino } from 'pino';
import type { DataSource } from 'typeorm';
import type { CliConfig } from './config.js';

@Module({})
class CliModule {
  static forRoot(config: CliConfig, masterKeyring: MasterKeyring): DynamicModule {
    const logger = createRootLogger({
      service: 'cli',
      level: config.LOG_LEVEL,
      mixin: contextLogFields,
      // stdout is the command's output (tables, --json); logs go to stderr.
      destination: pino.destination({ dest: 2, sync: true }),
    });
    return {
      module: CliModule,
      imports: [
        loggingModule(logger),
        MessagingModule.forRoot({
          url: config.NATS_URL,
          nkeySeed: config.NATS_NKEY_SEED,
          tls: natsTlsOf(config),
          name: `cli:${config.INSTANCE_ID}`,
          subjectPrefix: config.NATS_SUBJECT_PREFIX,
          defaultTimeoutMs: config.REQUEST_TIMEOUT_MS,
          signer: contextSignerFor(config),
        }),
        CatalogModule.forRoot(
          {
            systemDbUrl: config.SYSTEM_DB_URL,
            keys: { masterKey: masterKeyring.derivationRoot },
            cacheTtlMs: 0,
            negativeCacheTtlMs: 0,
            poolSize: config.CATALOG_POOL_SIZE,
            applicationName: `polystore-cli:${config.INSTANCE_ID}`.slice(0, 63),
          },
          // The CLI may be the first process on a fresh system database: it brings every table.
          { migrations: [...SAGA_MIGRATIONS, ...JOB_MIGRATIONS] },
        ),
      ],
    };
  }
}

/** What the commands use: the catalog, NATS, the job-run log and the gateway's address. */
export class CliContext {
  private constructor(
    readonly config: CliConfig,
    private readonly app: INestApplicationContext,
    /**
     * The master key's versions; its `derivationRoot` derives the server passwords in the catalog
     * and the stores' runtime logins.
     */
    readonly masterKeyring: MasterKeyring,
  ) {}

  static async open(config: CliConfig): Promise<CliContext> {
    const masterKeyring = resolveMasterKey(config);
    const app = await NestFactory.createApplicationContext(CliModule.forRoot(config, masterKeyring), {
      bufferLogs: true,
      abortOnError: false,
    });
    app.useLogger(app.get(Logger));
    return new CliContext(config, app, masterKeyring);
  }

  get catalog(): CatalogService {
    return this.app.get(CatalogService);
  }

  get catalogAdmin(): CatalogAdminService {
    return this.app.get(CatalogAdminService);
  }

  /** The operations asked for in the catalog (`ops worker`). */
  get operations(): OperationRequests {
    return this.app.get(OperationRequests);
  }

  get messages(): MessageClient {
    return this.app.get(MessageClient);
  }

  get systemDb(): DataSource {
    return this.app.get(SYSTEM_DATA_SOURCE);
  }

  get runLog(): JobRunLog {
    return new JobRunLog(this.systemDb);
  }

  /**
   * A scheduler of `jobs` run now by this CLI (no ticks): a run is logged, leased and resumable
   * like the gateway's, over the active tenants.
   */
  scheduler(jobs: readonly TenantJob<unknown>[]): JobScheduler {
    return new JobScheduler({
      owner: `cli:${this.config.INSTANCE_ID}`,
      jobs,
      log: this.runLog,
      messages: this.messages,
      tenants: () => this.activeTenants(),
      leaseMs: this.config.JOB_LEASE_MS,
      tickMs: 0,
    });
  }

  /** Slugs of the active tenants, in creation order. */
  async activeTenants(): Promise<string[]> {
    return (await this.catalogAdmin.listTenants()).filter((t) => t.status === 'active').map((t) => t.slug);
  }

  close(): Promise<void> {
    return this.app.close();
  }
}

/**
 * Calls the gateway's admin API on its admin port (tenant creation and deletion are sagas the
 * gateway drives). A `ROUTE_NOT_FOUND` means GATEWAY_ADMIN_URL is not that port (the public port
 * answers 404 for every admin route): an error naming the variable, not a 404 on the user's argument.
 */
export async function gatewayAdmin<T>(
  config: CliConfig,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const url = new URL(path, config.GATEWAY_ADMIN_URL);
  const response = await jsonRequest<T>({
    method,
    url,
    // The admin API answers on the base domain only.
    host: config.BASE_DOMAIN,
    bearer: resolveAdminToken(config),
    body,
    timeoutMs: 120_000,
  }).catch((error: Error) => {
    throw new Error(`${error.message} (GATEWAY_ADMIN_URL)`);
  });
  if (response.status === 404 && (response.body as { code?: unknown } | undefined)?.code === 'ROUTE_NOT_FOUND')
    throw new Error(
      `${url.origin} has no admin API (404 ROUTE_NOT_FOUND): GATEWAY_ADMIN_URL must be the gateway's admin port (ADMIN_PORT)`,
    );
  return response;
}
