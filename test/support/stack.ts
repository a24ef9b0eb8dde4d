import {
  TEST_CONTEXT_PUBLIC_KEY,
  TEST_CONTEXT_SEED,
  TEST_CONTEXT_STORE_KEYS,
  testStoreContextKey,
} from './context-keys.js';
import { storeKeyOf } from '#polystore/catalog';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { fileURLToPath } from 'node:url';
import { httpRequest, type HttpRequest, type HttpResponse } from './http.js';
import { uniqueToken } from './ids.js';
import type { PrivateBus } from './bus.js';
import { PrivateBroker, PrivateBrokerCluster } from './device-broker.js';
import { TestServices } from './services.js';
import { tenantSql, type TenantPlacement } from './tenant-data.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Deletes the JetStream streams whose names start with `namePrefix` (a stack's own). */
async function deleteStreams(namePrefix: string): Promise<void> {
  const nc = await connect({ servers: TestServices.natsUrl, name: 'test-cleanup' });
  try {
    const jsm = await jetstreamManager(nc);
    for await (const stream of jsm.streams.list()) {
      if (stream.config.name.startsWith(namePrefix)) await jsm.streams.delete(stream.config.name);
    }
  } finally {
    await nc.close();
  }
}

/** The apps a test can start, as built by `npm run build`. */
export type AppName = 'gateway' | 'secure-store' | 'reliable-store' | 'edge-store';

/** A fixed master key for tests (base64 of 32 bytes). Never used outside tests. */
export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');
export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789';

/** A store's own key (STORE_KEY), derived from the test master key as `polystore store-key` does. */
export function testStoreKey(store: 'secure' | 'reliable' | 'edge'): string {
  return storeKeyOf(Buffer.from(TEST_MASTER_KEY, 'base64'), store).toString('base64');
}

/** One running app process, with everything it printed. */
export class RunningApp {
  readonly lines: string[] = [];
  port = 0;
  /** The gateway's admin port (admin API, /metrics, /docs, /health/ready); 0 for the stores. */
  adminPort = 0;
  private exitInfo?: { code: number | null; signal: NodeJS.Signals | null };
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly name: AppName,
    readonly child: ChildProcess,
  ) {
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        this.lines.push(buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (buffer) this.lines.push(buffer);
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      }),
    );
  }

  /** Everything the process printed, as one string. */
  get output(): string {
    return this.lines.join('\n');
  }

  /** Log lines that are JSON, parsed. */
  get records(): Array<Record<string, unknown>> {
    return this.lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  get isRunning(): boolean {
    return this.exitInfo === undefined;
  }

  /** Resolves once the process logged `ready` (and its ports); rejects if it exits first. */
  async ready(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const record = this.records.find((r) => r['msg'] === 'ready');
      if (record) {
        this.port = Number(record['port'] ?? 0);
        this.adminPort = Number(record['adminPort'] ?? 0);
        return;
      }
      if (!this.isRunning) throw new Error(`${this.name} exited before ready:\n${this.output.slice(-4000)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`${this.name} not ready after ${timeoutMs} ms:\n${this.output.slice(-4000)}`);
  }

  /** Sends `signal` and waits for the exit. */
  async stop(
    signal: NodeJS.Signals = 'SIGTERM',
    timeoutMs = 20_000,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.isRunning) return this.exitInfo!;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  waitForExit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exited;
  }
}

export interface StackOptions {
  readonly apps: readonly AppName[];
  /** Extra environment for every app. */
  readonly env?: Record<string, string>;
  /** Extra environment for one app (over `env`). */
  readonly appEnv?: Partial<Record<AppName, Record<string, string>>>;
  /**
   * The device broker of the edge store: by default a private one started for this stack (and
   * closed with it) when the stack runs the edge store and `env` does not set DEVICE_BROKER.
   */
  readonly broker?: PrivateBroker | PrivateBrokerCluster;
  /** An authenticated bus: every app connects to it with its own credentials (default: the open test NATS). */
  readonly bus?: PrivateBus;
  /**
   * Start the apps all at once, each still awaited until it logged `ready` (default: one after
   * another, in the order of `apps`). No app needs another to start (each reaches its peers over
   * NATS on demand, as in `docker compose up`), so this only saves time; if one fails to start,
   * the others are stopped and the first error is thrown.
   */
  readonly parallelStart?: boolean;
}

/** A tenant created for a test. */
export interface TestTenant {
  readonly slug: string;
  readonly apiKey: string;
}

/**
 * A Polystore stack for one test suite: real processes built by `npm run build`, on the real
 * local PostgreSQL/NATS, isolated from every other suite by a NATS subject prefix, random
 * ports and fresh tenants (no table is ever truncated).
 */
export class TestStack {
  readonly prefix = `e2e${uniqueToken(6)}`;
  readonly baseDomain = 'polystore.test';
  readonly apps = new Map<AppName, RunningApp>();
  private readonly replicas: RunningApp[] = [];
  private readonly tenants = new Set<string>();

  private constructor(private readonly options: StackOptions) {}

  /** The edge store's device broker (given, or started for this stack), if it has one. */
  broker?: PrivateBroker | PrivateBrokerCluster;
  private ownsBroker = false;

  static async start(options: StackOptions): Promise<TestStack> {
    if (!existsSync(`${ROOT}/dist/apps/gateway/src/main.js`)) {
      throw new Error('dist/ is missing: run `npm run build` (npm test does it first)');
    }
    const stack = new TestStack(options);
    stack.broker = options.broker;
    if (!stack.broker && options.apps.includes('edge-store') && options.env?.['DEVICE_BROKER'] === undefined) {
      stack.broker = await PrivateBroker.create();
      stack.ownsBroker = true;
    }
    if (options.parallelStart) {
      const started = await Promise.allSettled(options.apps.map((app) => stack.startApp(app)));
      const failed = started.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      if (failed) {
        await Promise.all([...stack.apps.values()].map((app) => app.stop('SIGKILL')));
        if (stack.ownsBroker) await stack.broker?.close();
        throw failed.reason;
      }
    } else {
      for (const app of options.apps) await stack.startApp(app);
    }
    return stack;
  }

  /** The CLI's environment for this stack: the gateway's, with its admin port as GATEWAY_ADMIN_URL. */
  cliEnv(extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...this.env('gateway'),
      LOG_LEVEL: 'warn',
      GATEWAY_ADMIN_URL: `http://127.0.0.1:${this.adminPort}`,
      ...extra,
    };
  }

  /** The environment every app of this stack gets (tests can read it to reason about names). */
  env(app: AppName, extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      SYSTEM_DB_URL: TestServices.systemDbUrl,
      SECURE_SERVER_URL: TestServices.postgresUrl,
      RELIABLE_SERVER_URL: TestServices.mariadbUrl,
      EDGE_SERVER_URL: TestServices.postgresUrl,
      ...(this.options.bus
        ? { NATS_URL: this.options.bus.url, NATS_NKEY_SEED_FILE: this.options.bus.seedFile(app) }
        : { NATS_URL: TestServices.natsUrl }),
      ...(this.broker
        ? {
            DEVICE_BROKER_URL: this.broker instanceof PrivateBrokerCluster ? this.broker.natsUrls : this.broker.natsUrl,
            DEVICE_BROKER_KEY: (this.broker instanceof PrivateBrokerCluster
              ? this.broker.servers[0]!.key
              : this.broker.key
            ).toString('base64'),
          }
        : { DEVICE_BROKER: 'off' }),
      NATS_SUBJECT_PREFIX: this.prefix,
      // The master key only where PII is decrypted or placements are provisioned; the other
      // stores get their own key only.
      ...(app === 'gateway' || app === 'secure-store'
        ? { MASTER_KEY: TEST_MASTER_KEY }
        : { STORE_KEY: testStoreKey(app === 'edge-store' ? 'edge' : 'reliable') }),
      ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      // Each app holds only its side of the context key: the gateway signs, the stores verify.
      ...(app === 'gateway'
        ? { CONTEXT_SIGNING_KEY: TEST_CONTEXT_SEED.toString('base64'), CONTEXT_STORE_KEYS: TEST_CONTEXT_STORE_KEYS }
        : { CONTEXT_VERIFY_KEYS: TEST_CONTEXT_PUBLIC_KEY, CONTEXT_STORE_KEY: testStoreContextKey(app) }),
      BASE_DOMAIN: this.baseDomain,
      GATEWAY_PORT: '0',
      ADMIN_PORT: '0',
      // Scheduled jobs only where a test asks for them (they would touch every test tenant).
      JOBS: '',
      // Deleted tenants are destroyed at once unless a test asks for a grace period.
      TENANT_DELETION_GRACE_MS: '0',
      SECURE_HTTP_PORT: '0',
      RELIABLE_HTTP_PORT: '0',
      EDGE_HTTP_PORT: '0',
      INSTANCE_ID: `${this.prefix}-${app}`,
      // The gateway provisions tenants in the stores this stack runs.
      STORES: this.options.apps
        .filter((a) => a.endsWith('-store'))
        .map((a) => a.replace(/-store$/, ''))
        .join(','),
      ...(this.options.env ?? {}),
      ...(this.options.appEnv?.[app] ?? {}),
      ...extra,
    };
  }

  /** Starts (or restarts) one app and waits until it is ready. */
  async startApp(app: AppName, extraEnv: Record<string, string> = {}): Promise<RunningApp> {
    const child = spawn(process.execPath, [`${ROOT}/dist/apps/${app}/src/main.js`], {
      cwd: ROOT,
      env: this.env(app, extraEnv),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const running = new RunningApp(app, child);
    this.apps.set(app, running);
    await running.ready();
    return running;
  }

  /** Starts one more replica of `app` (same stack, its own instance id), stopped by `close()`. */
  async startReplica(app: AppName, replica: string, extraEnv: Record<string, string> = {}): Promise<RunningApp> {
    const child = spawn(process.execPath, [`${ROOT}/dist/apps/${app}/src/main.js`], {
      cwd: ROOT,
      env: this.env(app, { INSTANCE_ID: `${this.prefix}-${app}-${replica}`, ...extraEnv }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const running = new RunningApp(app, child);
    this.replicas.push(running);
    await running.ready();
    return running;
  }

  app(name: AppName): RunningApp {
    const app = this.apps.get(name);
    if (!app) throw new Error(`${name} is not part of this stack`);
    return app;
  }

  get gatewayPort(): number {
    return this.app('gateway').port;
  }

  /** The gateway's admin port: the admin API, /metrics, /docs, /health/ready (404 on the public port). */
  get adminPort(): number {
    return this.app('gateway').adminPort;
  }

  /**
   * A request to the gateway's public port (or `port`); `tenant` sets Host to
   * `<tenant>.<base domain>`, else the base domain.
   */
  request<T = any>(
    request: Omit<HttpRequest, 'port' | 'host'> & { tenant?: string; host?: string; apiKey?: string; port?: number },
  ): Promise<HttpResponse<T>> {
    const headers = { ...(request.headers ?? {}) };
    if (request.apiKey) headers['authorization'] = `Bearer ${request.apiKey}`;
    return httpRequest<T>({
      ...request,
      port: request.port ?? this.gatewayPort,
      host: request.host ?? (request.tenant ? `${request.tenant}.${this.baseDomain}` : this.baseDomain),
      headers,
    });
  }

  /** A request to the gateway's admin port, as {@link request} builds it. */
  internal<T = any>(
    request: Omit<HttpRequest, 'port' | 'host'> & { tenant?: string; host?: string; apiKey?: string },
  ): Promise<HttpResponse<T>> {
    return this.request<T>({ ...request, port: this.adminPort });
  }

  /** A call to the admin API (admin port, admin token). */
  admin<T = any>(method: string, path: string, body?: unknown): Promise<HttpResponse<T>> {
    return this.internal<T>({ method, path, body, apiKey: TEST_ADMIN_TOKEN });
  }

  /**
   * Creates a tenant through the admin API (slug `e2e-<random>`), deleted again by `close()`.
   * `placements` chooses a kind (or server) per store; stores not named get the default.
   */
  async createTenant(
    suffix = '',
    placements?: ReadonlyArray<{ store: string; kind?: string; server?: string }>,
  ): Promise<TestTenant> {
    const slug = `e2e-${uniqueToken(8)}${suffix ? `-${suffix}` : ''}`;
    const response = await this.admin<{ slug: string; apiKey: string }>('POST', '/admin/tenants', {
      slug,
      name: `Test ${slug}`,
      ...(placements ? { placements } : {}),
    });
    if (response.status !== 201) {
      const logs = [...this.apps.values()].flatMap((app) =>
        app.output
          .split('\n')
          .filter((line) => line.includes(slug) || /"level":"(error|fatal|warn)"/.test(line))
          .slice(-20)
          .map((line) => `${app.name}: ${line}`),
      );
      throw new Error(`creating ${slug} failed: ${response.status} ${response.text}\n${logs.join('\n')}`);
    }
    this.tenants.add(slug);
    return { slug, apiKey: response.body.apiKey };
  }

  /** The tenant's placement in `store`, as the admin API lists it. */
  async placement(slug: string, store: string): Promise<TenantPlacement> {
    const response = await this.admin<{ items: Array<{ slug: string; placements: TenantPlacement[] }> }>(
      'GET',
      '/admin/tenants',
    );
    const placement = response.body.items.find((t) => t.slug === slug)?.placements.find((p) => p.store === store);
    if (!placement) throw new Error(`${slug} has no ${store} placement (${response.status} ${response.text})`);
    return placement;
  }

  /** Runs SQL in the tenant's own data in `store` (its schema, or its database): see `tenantSql`. */
  async tenantSql<R = Record<string, unknown>>(
    slug: string,
    store: string,
    sql: string,
    params: unknown[] = [],
  ): Promise<R[]> {
    return tenantSql<R>(await this.placement(slug, store), sql, params);
  }

  /** Forgets a tenant the test deleted itself. */
  forget(slug: string): void {
    this.tenants.delete(slug);
  }

  /**
   * Deletes this suite's tenants (while the stack runs; a few at a time, each deletion drops its
   * data in every store), stops every app, removes its JetStream streams.
   */
  async close(): Promise<void> {
    if (this.apps.get('gateway')?.isRunning) {
      const queue = [...this.tenants];
      const deleter = async () => {
        for (let slug = queue.shift(); slug; slug = queue.shift())
          await this.admin('DELETE', `/admin/tenants/${slug}`).catch(() => undefined);
      };
      await Promise.all(Array.from({ length: 4 }, deleter));
    }
    await Promise.all([...this.apps.values(), ...this.replicas].map((app) => app.stop('SIGTERM')));
    await deleteStreams(this.prefix.toUpperCase());
    if (this.ownsBroker) await this.broker?.close();
  }
}
