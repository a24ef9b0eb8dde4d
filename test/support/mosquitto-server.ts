import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './eventually.js';
import { freePort } from './mariadb-server.js';

const MOSQUITTO = '/usr/sbin/mosquitto';
const DYNSEC_PLUGIN = '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so';
const ADMIN_USERNAME = 'polystore-admin';

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A Mosquitto of the test's own (the machine's `mosquitto`, the dynamic security plugin, a fresh
 * temporary directory, a free port), configured like `scripts/mosquitto.sh` configures the
 * project's broker, so a test can grant, revoke, kill and restart without touching a shared one.
 */
export class PrivateMosquitto {
  private child?: ChildProcess;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly adminPassword: string,
  ) {}

  static async create(): Promise<PrivateMosquitto> {
    const dir = mkdtempSync(join(tmpdir(), 'polystore-mosquitto-'));
    const adminPassword = randomBytes(18).toString('base64url');
    const dynsec = join(dir, 'dynamic-security.json');
    const init = spawnSync('mosquitto_ctrl', ['dynsec', 'init', dynsec, ADMIN_USERNAME, adminPassword], {
      encoding: 'utf8',
    });
    if (init.status !== 0) throw new Error(`mosquitto_ctrl dynsec init failed: ${init.stderr || init.stdout}`);
    const server = new PrivateMosquitto(dir, await freePort(), adminPassword);
    mkdirSync(join(dir, 'data'));
    writeFileSync(server.configFile, server.config(dynsec), { mode: 0o600 });
    await server.start();
    return server;
  }

  /** `mqtt://127.0.0.1:<port>` */
  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get adminUsername(): string {
    return ADMIN_USERNAME;
  }

  get logFile(): string {
    return join(this.dir, 'mosquitto.log');
  }

  private get configFile(): string {
    return join(this.dir, 'mosquitto.conf');
  }

  private config(dynsec: string): string {
    const lines = [
      'per_listener_settings false',
      // Without it Mosquitto's replies wait for Nagle: about 40 ms per dynamic-security command and PUBACK.
      'set_tcp_nodelay true',
      `listener ${this.port} 127.0.0.1`,
      'allow_anonymous false',
      `plugin ${DYNSEC_PLUGIN}`,
      `plugin_opt_config_file ${dynsec}`,
      'max_inflight_messages 0',
      'max_queued_messages 1000000',
      'max_queued_bytes 0',
      'persistence true',
      `persistence_location ${join(this.dir, 'data')}/`,
      `log_dest file ${this.logFile}`,
      'log_timestamp_format %Y-%m-%dT%H:%M:%S',
    ];
    // As root, Mosquitto drops to user `mosquitto`, which cannot read this 0700 directory.
    if (process.getuid?.() === 0) lines.push('user root');
    return `${lines.join('\n')}\n`;
  }

  /** Starts the broker (again: same port, same directory, same grants) and waits until it accepts connections. */
  async start(): Promise<void> {
    const child = spawn(MOSQUITTO, ['-c', this.configFile], { stdio: 'ignore' });
    this.child = child;
    let exited = false;
    child.once('exit', () => (exited = true));
    await eventually(
      async () => {
        if (exited) throw new Error(`mosquitto exited at start; log: ${this.logTail()}`);
        return accepts(this.port);
      },
      { timeoutMs: 10_000, intervalMs: 50, what: `Mosquitto on :${this.port}` },
    );
  }

  /** Kills the broker (SIGKILL: a crash, not a shutdown) and waits until it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async destroy(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private logTail(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8').split('\n').slice(-10).join('\n') : '(no log)';
  }
}
