import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { DynamicModule } from '@nestjs/common';
import { PolystoreNatsServer, type ContextVerifier, type NatsTls } from '#polystore/messaging';
import { createMetricsRegistry, createRootLogger, type MasterKeyring } from '#polystore/platform';
import { contextLogFields } from '#polystore/tenancy';
import { Logger as NestPinoLogger } from 'nestjs-pino';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import { storeKeyOf, type StoreName } from '#polystore/catalog';
import { resolveMasterKey } from './common-config.js';
import { contextVerifierFor } from './context-keys.js';
import { armCrashPoints, installShutdown, loadConfigOrExit } from './process.util.js';
import { registerAccessLog } from './logging.module.js';
import { StoreErrorFilter } from './store-error.filter.js';
import { natsTlsOf } from './transport-tls.util.js';

export interface StoreProcessOptions {
  /** Service name and NATS queue group, e.g. `secure-store`. */
  readonly service: string;
  readonly module: DynamicModule;
  readonly logger: Logger;
  /** Port of the store's own HTTP server (metrics, health; ingest for the edge store). 0 = any. */
  readonly httpPort: number;
  readonly httpHost: string;
  readonly natsUrl: string;
  /** The store's NKey seed on an authenticated bus. */
  readonly natsNkeySeed?: string;
  /** TLS to the NATS servers (NATS_TLS_CA). */
  readonly natsTls?: NatsTls;
  readonly subjectPrefix: string;
  /** Checks the signed context of every message before it runs. */
  readonly contextVerifier: ContextVerifier;
  readonly instanceId: string;
  readonly shutdownTimeoutMs: number;
  /** Largest HTTP body accepted, in bytes. */
  readonly bodyLimit?: number;
  /** Log one line per HTTP request (the edge store's ingest). */
  readonly accessLog?: boolean;
  /**
   * Stop on SIGTERM/SIGINT and exit (default). False when several apps share one process (the
   * quickstart), whose owner closes each app itself.
   */
  readonly handleSignals?: boolean;
}

/**
 * Starts a store: a NestJS application answering its NATS patterns (queue group = service, so
 * replicas share the load) plus a small HTTP server; logs `ready` with the bound port; stops
 * gracefully on SIGTERM/SIGINT (subscriptions first, in-flight messages, then DataSources), or
 * on `app.close()` when its process hosts several apps.
 */
export async function startStoreProcess(options: StoreProcessOptions): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    options.module,
    new FastifyAdapter({ bodyLimit: options.bodyLimit ?? 1_048_576, return503OnClosing: true }),
    { bufferLogs: true },
  );
  app.useLogger(app.get(NestPinoLogger));
  app.useGlobalFilters(new StoreErrorFilter());
  app.connectMicroservice(
    {
      strategy: new PolystoreNatsServer({
        url: options.natsUrl,
        queue: options.service,
        subjectPrefix: options.subjectPrefix,
        name: `${options.service}:${options.instanceId}`,
        drainTimeoutMs: options.shutdownTimeoutMs,
        verifier: options.contextVerifier,
        nkeySeed: options.natsNkeySeed,
        tls: options.natsTls,
      }),
    },
    { inheritAppConfig: true },
  );
  if (options.accessLog) registerAccessLog(app.getHttpAdapter().getInstance(), options.logger);
  await app.startAllMicroservices();
  await app.listen(options.httpPort, options.httpHost);
  if (options.handleSignals !== false) installShutdown(app, options.logger, options.shutdownTimeoutMs);
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : options.httpPort;
  options.logger.info({ port, instance: options.instanceId }, 'ready');
  return app;
}

/** The variables of {@link commonConfigShape} a store's start needs. */
interface StoreConfigBase {
  readonly NODE_ENV: string;
  readonly LOG_LEVEL: string;
  readonly CRASH_POINTS: readonly string[];
  readonly MASTER_KEY?: MasterKeyring;
  readonly STORE_KEY?: Buffer;
  readonly CONTEXT_VERIFY_KEYS?: string[];
  readonly CONTEXT_STORE_KEY?: string[];
  readonly DEV_SECRETS_FILE: string;
  readonly HTTP_HOST: string;
  readonly NATS_URL: string;
  readonly NATS_NKEY_SEED?: string;
  readonly NATS_TLS_CA?: string;
  readonly NATS_SUBJECT_PREFIX: string;
  readonly INSTANCE_ID: string;
  readonly SHUTDOWN_TIMEOUT_MS: number;
}

/** The keys a store process holds: its own, and the master key only where it must decrypt PII. */
export interface StoreKeys {
  /** The store's own key ({@link storeKeyOf}): its placements' server passwords, its runtime login. */
  readonly storeKey: Buffer;
  /**
   * Only in the store that holds PII (the secure store): every version of the master key, which
   * wrap the tenants' data keys; the store key derives from its `derivationRoot`.
   */
  readonly masterKeyring?: MasterKeyring;
}

/** What a store's root module is built from. */
export interface StoreWiring<C> {
  readonly config: C;
  readonly keys: StoreKeys;
  readonly logger: Logger;
  readonly metrics: Registry;
}

export interface StoreDefinition<C extends StoreConfigBase> {
  readonly service: string;
  /** The store's name (its key derives from it). */
  readonly store: StoreName;
  /** True for the store that decrypts PII: it holds the master key; every other store must not. */
  readonly holdsMasterKey?: boolean;
  readonly configSchema: z.ZodType<C, Record<string, unknown>>;
  readonly module: (wiring: StoreWiring<C>) => DynamicModule;
  readonly httpPort: (config: C) => number;
  readonly bodyLimit?: (config: C) => number;
  readonly accessLog?: boolean;
}

/**
 * Starts a store from its definition and the environment `env`: validates the configuration
 * (a bad variable is printed and the process exits 1), arms test crash points, builds the
 * logger, metrics and master key, then {@link startStoreProcess}. Each store's `main.ts` runs it
 * alone; the quickstart runs every app in one process with `handleSignals: false`.
 */
export function startStore<C extends StoreConfigBase>(
  definition: StoreDefinition<C>,
  env: Record<string, string | undefined>,
  options: { handleSignals?: boolean } = {},
): Promise<NestFastifyApplication> {
  const config: C = loadConfigOrExit(definition.configSchema, env);
  armCrashPoints(config);
  const logger = createRootLogger({
    service: definition.service,
    level: config.LOG_LEVEL,
    mixin: contextLogFields,
  });
  const metrics = createMetricsRegistry(definition.service);
  return startStoreProcess({
    service: definition.service,
    module: definition.module({ config, keys: resolveStoreKeys(definition, config), logger, metrics }),
    logger,
    httpPort: definition.httpPort(config),
    httpHost: config.HTTP_HOST,
    natsUrl: config.NATS_URL,
    natsNkeySeed: config.NATS_NKEY_SEED,
    natsTls: natsTlsOf(config),
    subjectPrefix: config.NATS_SUBJECT_PREFIX,
    contextVerifier: contextVerifierFor(definition.service, config),
    instanceId: config.INSTANCE_ID,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    bodyLimit: definition.bodyLimit?.(config),
    accessLog: definition.accessLog,
    handleSignals: options.handleSignals,
  });
}

/**
 * The keys of a store process. The secure store holds the master key (required in production)
 * and derives its own key from its derivation root (the lowest version, so adding a version
 * changes no store key). Every other store holds only its own key, `STORE_KEY`
 * (required in production, where it must not be given MASTER_KEY at all); outside production,
 * without STORE_KEY, it derives it from MASTER_KEY or the development secrets.
 */
export function resolveStoreKeys(
  definition: Pick<StoreDefinition<StoreConfigBase>, 'store' | 'service' | 'holdsMasterKey'>,
  config: StoreConfigBase,
): StoreKeys {
  if (definition.holdsMasterKey) {
    const masterKeyring = resolveMasterKey(config);
    return { masterKeyring, storeKey: storeKeyOf(masterKeyring.derivationRoot, definition.store) };
  }
  if (config.STORE_KEY) return { storeKey: config.STORE_KEY };
  return { storeKey: storeKeyOf(resolveMasterKey(config).derivationRoot, definition.store) };
}
