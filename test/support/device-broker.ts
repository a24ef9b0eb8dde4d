import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrokerKeys, brokerServerConfig, credsFile, userJwt, type BrokerServerOptions } from '#polystore/device-broker';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, credsAuthenticator, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import { eventually } from './eventually.js';
import { freePort } from './mariadb-server.js';

const NATS_SERVER = '/usr/sbin/nats-server';

/** The device-broker key of the tests: any 32 bytes do; fixed, so a failure can be replayed. */
export const TEST_DEVICE_BROKER_KEY = Buffer.alloc(32, 9);

/** How a {@link PrivateBroker} is configured (everything else as `polystore broker config` does). */
export interface PrivateBrokerOptions {
  /** The root of every key (default {@link TEST_DEVICE_BROKER_KEY}). */
  readonly key?: Buffer;
  /** MQTT over TLS (absolute paths of PEM files). */
  readonly mqttTls?: { readonly certFile: string; readonly keyFile: string };
  readonly maxPayloadBytes?: number;
}

/** One server's place in a cluster: its ports are chosen before any server starts. */
interface MemberLayout {
  readonly serverName: string;
  readonly port: number;
  readonly mqttPort: number;
  readonly cluster: NonNullable<BrokerServerOptions['cluster']>;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function running(child: ChildProcess | undefined): child is ChildProcess {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

/**
 * A device broker of the test's own: the machine's nats-server with the configuration
 * `polystore broker config` writes (`brokerServerConfig`: operator mode, full resolver,
 * JetStream, MQTT), in a fresh temporary directory on free ports, so a test can revoke, kill and
 * restart without touching a shared broker.
 */
export class PrivateBroker {
  private child?: ChildProcess;
  private stderr = '';

  private constructor(
    /** The state directory: nats.conf, nats.log, data/ (accounts/, jetstream/). */
    readonly dir: string,
    /** The root of every key. */
    readonly key: Buffer,
    /** Every key, derived from {@link key}. */
    readonly keys: BrokerKeys,
    /** NATS client port. */
    readonly port: number,
    readonly mqttPort: number,
    private readonly tls: boolean,
  ) {}

  /** Writes the configuration and starts the server; resolves when its client and MQTT ports accept. */
  static async create(options: PrivateBrokerOptions = {}): Promise<PrivateBroker> {
    return withFreshPorts(async () => {
      const broker = await PrivateBroker.prepare(options);
      try {
        await broker.start();
      } catch (error) {
        await broker.close();
        throw error;
      }
      return broker;
    });
  }

  /** A configured server, not started: {@link PrivateBrokerCluster} starts its members together. */
  static async prepare(options: PrivateBrokerOptions = {}, layout?: MemberLayout): Promise<PrivateBroker> {
    const dir = mkdtempSync(join(tmpdir(), 'polystore-broker-'));
    const key = options.key ?? TEST_DEVICE_BROKER_KEY;
    const keys = new BrokerKeys(key);
    const port = layout?.port ?? (await freePort());
    const mqttPort = layout?.mqttPort ?? (await freePort());
    const config = brokerServerConfig(keys, {
      serverName: layout?.serverName ?? `test-broker-${port}`,
      host: '127.0.0.1',
      port,
      mqttPort,
      dataDir: join(dir, 'data'),
      ...(options.maxPayloadBytes === undefined ? {} : { maxPayloadBytes: options.maxPayloadBytes }),
      ...(options.mqttTls ? { mqttTls: options.mqttTls } : {}),
      ...(layout ? { cluster: layout.cluster } : {}),
    });
    writeFileSync(join(dir, 'nats.conf'), config, { mode: 0o600 });
    return new PrivateBroker(dir, key, keys, port, mqttPort, options.mqttTls !== undefined);
  }

  /** `nats://127.0.0.1:<port>` */
  get natsUrl(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** `mqtt://127.0.0.1:<port>`, or `mqtts://` when MQTT is over TLS. */
  get mqttUrl(): string {
    return `${this.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${this.mqttPort}`;
  }

  /** The pid of the running server (a new one after {@link restart}). */
  get pid(): number {
    if (!running(this.child) || this.child.pid === undefined) throw new Error('the broker is not running');
    return this.child.pid;
  }

  get logFile(): string {
    return join(this.dir, 'nats.log');
  }

  /** Starts the server (again: same directory, same ports) and waits until both ports accept. */
  async start(): Promise<void> {
    if (running(this.child)) throw new Error('the broker is already running');
    const child = spawn(NATS_SERVER, ['-c', join(this.dir, 'nats.conf'), '-l', this.logFile], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    this.stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    const outcome = await eventually(
      async () => {
        if (!running(child)) return 'exited';
        return (await accepts(this.port)) && (await accepts(this.mqttPort)) && 'ready';
      },
      { timeoutMs: 15_000, intervalMs: 25, what: `nats-server on :${this.port} and MQTT :${this.mqttPort}` },
    );
    if (outcome === 'exited') throw new Error(`nats-server exited at start: ${this.stderr}${this.logTail()}`);
  }

  /** Kills the server (SIGKILL by default: a crash, not a shutdown) and waits until it is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!running(child)) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }

  /** Stops the server (SIGTERM, unless it is already down) and starts it again on the same state. */
  async restart(): Promise<void> {
    await this.kill('SIGTERM');
    await this.start();
  }

  /** Kills the server and deletes its state. */
  async close(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The last lines of the server's log (for failure messages). */
  logTail(lines = 15): string {
    return existsSync(this.logFile)
      ? readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n')
      : '(no log)';
  }
}

/**
 * `size` device-broker servers routed to each other (one cluster, the same key), each in its own
 * directory, started together; `create` resolves when JetStream has a meta leader that sees every
 * server, so an R3 stream can be created at once.
 */
export class PrivateBrokerCluster {
  private constructor(readonly servers: readonly PrivateBroker[]) {}

  static create(size = 3, options: Omit<PrivateBrokerOptions, 'mqttTls'> = {}): Promise<PrivateBrokerCluster> {
    return withFreshPorts(() => PrivateBrokerCluster.createOnce(size, options));
  }

  private static async createOnce(
    size: number,
    options: Omit<PrivateBrokerOptions, 'mqttTls'>,
  ): Promise<PrivateBrokerCluster> {
    const ports = [];
    for (let i = 0; i < size; i += 1)
      ports.push({ port: await freePort(), mqtt: await freePort(), route: await freePort() });
    const routes = ports.map((p) => `nats-route://127.0.0.1:${p.route}`);
    const servers = await Promise.all(
      ports.map((p, i) =>
        PrivateBroker.prepare(options, {
          serverName: `test-node-${i}`,
          port: p.port,
          mqttPort: p.mqtt,
          cluster: { name: 'test-cluster', port: p.route, routes: routes.filter((_, j) => j !== i) },
        }),
      ),
    );
    const cluster = new PrivateBrokerCluster(servers);
    try {
      await Promise.all(servers.map((server) => server.start()));
      await cluster.waitForJetStream();
    } catch (error) {
      await cluster.close();
      throw error;
    }
    return cluster;
  }

  get keys(): BrokerKeys {
    return this.servers[0]!.keys;
  }

  /** Every server's client URL, comma-joined (what `DEVICE_BROKER_URL` takes for a cluster). */
  get natsUrls(): string {
    return this.servers.map((s) => s.natsUrl).join(',');
  }

  get mqttUrls(): string[] {
    return this.servers.map((s) => s.mqttUrl);
  }

  /** Kills server `i` (SIGKILL by default) and waits until it is gone. */
  kill(i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    return this.server(i).kill(signal);
  }

  /** Starts server `i` again on its state (stopping it first when it runs) and waits for its ports. */
  restart(i: number): Promise<void> {
    return this.server(i).restart();
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.close()));
  }

  private server(i: number): PrivateBroker {
    const server = this.servers[i];
    if (!server) throw new Error(`no server ${i} (the cluster has ${this.servers.length})`);
    return server;
  }

  /** The server name of server `i` (what stream and meta leaders are reported as). */
  serverName(i: number): string {
    this.server(i);
    return `test-node-${i}`;
  }

  /**
   * Asks the leader of `stream` (devices account; `$MQTT_msgs` and the other MQTT streams too) to
   * step down until server `i` leads it: nats-server 2.9 takes no preferred leader, so a test
   * that needs a given placement (who dies, who survives) draws until it gets it.
   */
  async placeStreamLeader(stream: string, i: number, timeoutMs = 20_000): Promise<void> {
    const wanted = this.serverName(i);
    const nc = await ingestConnection(this, { servers: this.server(i).natsUrl });
    try {
      const jsm = await jetstreamManager(nc, { timeout: 2_000 });
      await eventually(
        async () => {
          const leader = (await jsm.streams.info(stream)).cluster?.leader;
          if (leader === wanted) return true;
          if (leader) await nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${stream}`, '', { timeout: 2_000 });
          return false;
        },
        { timeoutMs, intervalMs: 250, what: `${wanted} leading stream ${stream}` },
      );
    } finally {
      await nc.close();
    }
  }

  /**
   * Places on server `i` the leaders of the MQTT internal streams of the devices' account
   * (`$MQTT_sess`, `$MQTT_msgs`, ...: they exist once a device has connected). A test that kills
   * another server then does not also wait for their elections, which on nats-server 2.9 can stall
   * MQTT for minutes on a loaded machine (nats-io/nats-server#3787).
   */
  async placeMqttLeaders(i: number, timeoutMs = 20_000): Promise<string[]> {
    const nc = await ingestConnection(this, { servers: this.server(i).natsUrl });
    const names: string[] = [];
    try {
      const jsm = await jetstreamManager(nc, { timeout: 2_000 });
      for await (const stream of jsm.streams.list())
        if (stream.config.name.startsWith('$MQTT_')) names.push(stream.config.name);
    } finally {
      await nc.close();
    }
    for (const name of names) await this.placeStreamLeader(name, i, timeoutMs);
    return names;
  }

  /**
   * Asks the JetStream meta leader to step down until server `i` leads the cluster's metadata, so
   * that a test killing another server does not also wait for a meta election (the JetStream API
   * answered "temporarily unavailable" for over 15 s once when the killed server had led it).
   */
  async placeMetaLeader(i: number, timeoutMs = 20_000): Promise<void> {
    const wanted = this.serverName(i);
    const nc = await systemConnection(this.server(i));
    try {
      await eventually(
        async () => {
          const { leader } = await metaCluster(nc);
          if (leader === wanted) return true;
          if (leader) await nc.request('$JS.API.META.LEADER.STEPDOWN', '', { timeout: 2_000 });
          return false;
        },
        { timeoutMs, intervalMs: 250, what: `${wanted} leading the JetStream metadata` },
      );
    } finally {
      await nc.close();
    }
  }

  /**
   * Until every running server reports the same meta leader, the leader reports every server as
   * a current peer (`$SYS.REQ.SERVER.<id>.JSZ` as the system user), and every server has loaded
   * the devices account with JetStream: an R3 stream created before that occasionally failed on
   * 2.9.10 with "error creating store for stream" (a peer's account directory did not exist yet).
   */
  async waitForJetStream(timeoutMs = 20_000): Promise<void> {
    const connections = await Promise.all(this.servers.map((s) => systemConnection(s)));
    try {
      await eventually(
        async () => {
          const reports = await Promise.all(connections.map((nc) => metaCluster(nc)));
          const leader = reports[0]?.leader;
          if (!leader || reports.some((r) => r.leader !== leader)) return false;
          const fromLeader = reports.find((r) => r.serverName === leader);
          return (
            fromLeader !== undefined &&
            fromLeader.clusterSize === this.servers.length &&
            fromLeader.replicas.length === this.servers.length - 1 &&
            fromLeader.replicas.every((r) => r.current)
          );
        },
        { timeoutMs, intervalMs: 100, what: 'a JetStream meta leader that sees every server' },
      );
    } finally {
      await Promise.all(connections.map((nc) => nc.close()));
    }
    for (const server of this.servers) {
      const nc = await ingestConnection(server);
      try {
        await eventually(async () => (await jetstreamManager(nc, { timeout: 2_000 })).getAccountInfo(), {
          timeoutMs,
          what: `JetStream of the devices account on ${server.natsUrl}`,
        });
      } finally {
        await nc.close();
      }
    }
  }
}

interface MetaClusterReport {
  serverName: string;
  leader?: string;
  clusterSize?: number;
  replicas: Array<{ name: string; current: boolean }>;
}

async function metaCluster(nc: NatsConnection): Promise<MetaClusterReport> {
  const id = nc.info?.server_id;
  if (!id) throw new Error('no server info yet');
  const reply = (await nc.request(`$SYS.REQ.SERVER.${id}.JSZ`, '', { timeout: 2_000 })).json<{
    server: { name: string };
    data?: {
      meta_cluster?: { leader?: string; cluster_size?: number; replicas?: Array<{ name: string; current: boolean }> };
    };
  }>();
  const meta = reply.data?.meta_cluster;
  return {
    serverName: reply.server.name,
    ...(meta?.leader ? { leader: meta.leader } : {}),
    ...(meta?.cluster_size === undefined ? {} : { clusterSize: meta.cluster_size }),
    replicas: meta?.replicas ?? [],
  };
}

type BrokerTarget = PrivateBroker | PrivateBrokerCluster;

function serversOf(target: BrokerTarget): string[] {
  return target instanceof PrivateBroker ? [target.natsUrl] : target.servers.map((s) => s.natsUrl);
}

/**
 * A NATS connection as the edge store's ingest user (devices account, JetStream). `options`
 * override the defaults, e.g. `servers` to pin one server of a cluster.
 */
export function ingestConnection(
  target: BrokerTarget,
  options: Partial<NodeConnectionOptions> = {},
): Promise<NatsConnection> {
  const { keys } = target;
  const jwt = userJwt({
    user: keys.ingestUser,
    account: keys.devicesAccount,
    signer: keys.devicesAccount,
    name: 'ingest',
  });
  return connect({
    servers: serversOf(target),
    name: 'test-ingest',
    authenticator: credsAuthenticator(new TextEncoder().encode(credsFile(jwt, keys.ingestUser))),
    ...options,
  });
}

/** A NATS connection as the system user (account updates such as revocations, server requests). */
export function systemConnection(
  target: BrokerTarget,
  options: Partial<NodeConnectionOptions> = {},
): Promise<NatsConnection> {
  const { keys } = target;
  const jwt = userJwt({ user: keys.systemUser, account: keys.systemAccount, signer: keys.systemAccount, name: 'sys' });
  return connect({
    servers: serversOf(target),
    name: 'test-system',
    authenticator: credsAuthenticator(new TextEncoder().encode(credsFile(jwt, keys.systemUser))),
    ...options,
  });
}

/**
 * A free port can be taken by another suite between `freePort()` and the server binding it: such
 * a start is tried again (up to 3 times) on new ports.
 */
async function withFreshPorts<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (i >= 3 || !/address already in use/.test((error as Error).message)) throw error;
    }
  }
}
