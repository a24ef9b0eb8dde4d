import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BusService } from '#polystore/messaging';
import { eventually } from './eventually.js';
import { freePort } from './mariadb-server.js';
import type { ServerCertificate } from './tls-certs.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NATS_SERVER = '/usr/sbin/nats-server';
const run = promisify(execFile);

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A private authenticated bus for one suite: configured by the built CLI (`polystore bus config`,
 * what scripts/bus.sh runs), an NKey user per service, served by a nats-server of its own. With
 * `tls`, the client port requires TLS with that certificate (`--tls-cert`, `--tls-key`).
 */
export class PrivateBus {
  private child?: ChildProcess;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly tls?: ServerCertificate,
  ) {}

  static async create(options: { tls?: ServerCertificate } = {}): Promise<PrivateBus> {
    const bus = new PrivateBus(mkdtempSync(join(tmpdir(), 'polystore-bus-')), await freePort(), options.tls);
    await bus.cli('config');
    await bus.start();
    return bus;
  }

  /** `nats://127.0.0.1:<port>`, or `tls://` when the bus requires TLS. */
  get url(): string {
    return `${this.tls ? 'tls' : 'nats'}://127.0.0.1:${this.port}`;
  }

  /** The file holding `service`'s seed: what it gets as NATS_NKEY_SEED_FILE. */
  seedFile(service: BusService): string {
    return join(this.dir, 'creds', `${service}.nk`);
  }

  seedOf(service: BusService): string {
    return readFileSync(this.seedFile(service), 'utf8').trim();
  }

  /** `polystore bus revoke <service>` and a reload of the running server (what scripts/bus.sh revoke does). */
  async revoke(service: BusService): Promise<void> {
    await this.cli('revoke', service);
    await run(NATS_SERVER, ['--signal', `reload=${this.child!.pid}`]);
  }

  /** Stops the server (SIGKILL: a crash) and starts it again on the same port and state. */
  async crashAndRestart(): Promise<void> {
    await this.kill();
    await this.restart();
  }

  /** Kills the server with SIGKILL (a crash: no flush, clients see the connection drop). */
  async kill(): Promise<void> {
    const child = this.child!;
    if (!this.isRunning) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Starts the server again after {@link kill}: same port, same configuration, same JetStream store. */
  restart(): Promise<void> {
    return this.start();
  }

  /** The pid of the running server (a restart changes it). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get isRunning(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async close(): Promise<void> {
    const child = this.child;
    if (child && this.isRunning) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async start(): Promise<void> {
    this.child = spawn(NATS_SERVER, ['-c', join(this.dir, 'nats.conf'), '-l', join(this.dir, 'nats.log')], {
      stdio: 'ignore',
    });
    await eventually(() => accepts(this.port), { timeoutMs: 10_000, what: `the bus on :${this.port}` });
  }

  private async cli(...args: string[]): Promise<void> {
    await run(
      process.execPath,
      [
        ...[`${ROOT}dist/apps/cli/src/main.js`, 'bus', ...args, '--dir', this.dir, '--port', String(this.port)],
        ...(this.tls ? ['--tls-cert', this.tls.certFile, '--tls-key', this.tls.keyFile] : []),
      ],
      { env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test' } },
    );
  }
}
