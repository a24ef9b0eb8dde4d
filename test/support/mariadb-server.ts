import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './eventually.js';
import type { ServerCertificate } from './tls-certs.js';

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function accepts(port: number, tls: boolean): Promise<boolean> {
  const mysql = await import('mysql2/promise');
  try {
    const connection = await mysql.createConnection({
      host: '127.0.0.1',
      port,
      user: 'root',
      connectTimeout: 500,
      ...(tls ? { ssl: { rejectUnauthorized: false } } : {}),
    });
    await connection.end();
    return true;
  } catch {
    return false;
  }
}

/**
 * A MariaDB server of the test's own (the machine's `mariadbd`, a fresh data directory, a free
 * port), so a test can stop and restart "the database" without touching the shared one.
 *
 * With `tls` (a server certificate and key, and the CA), the server has TLS on and
 * `require_secure_transport=ON`: plaintext TCP clients are refused.
 */
export class PrivateMariaDb {
  private child?: ChildProcess;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly tls?: ServerCertificate & { readonly caFile: string },
  ) {}

  static async create(
    options: { tls?: ServerCertificate & { readonly caFile: string } } = {},
  ): Promise<PrivateMariaDb> {
    const dir = mkdtempSync(join(tmpdir(), 'polystore-mariadb-'));
    const install = spawnSync(
      'mariadb-install-db',
      [
        '--no-defaults',
        `--datadir=${dir}/data`,
        '--auth-root-authentication-method=normal',
        '--user=root',
        '--skip-test-db',
      ],
      { encoding: 'utf8' },
    );
    if (install.status !== 0) throw new Error(`mariadb-install-db failed: ${install.stderr}`);
    const server = new PrivateMariaDb(dir, await freePort(), options.tls);
    await server.start();
    return server;
  }

  /** `mysql://root@127.0.0.1:<port>` */
  get url(): string {
    return `mysql://root@127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.child = spawn(
      '/usr/sbin/mariadbd',
      [
        '--no-defaults',
        `--datadir=${this.dir}/data`,
        `--port=${this.port}`,
        '--bind-address=127.0.0.1',
        `--socket=${this.dir}/mysqld.sock`,
        `--pid-file=${this.dir}/mysqld.pid`,
        '--user=root',
        '--innodb-buffer-pool-size=32M',
        '--skip-log-bin',
        ...(this.tls
          ? [
              `--ssl-cert=${this.tls.certFile}`,
              `--ssl-key=${this.tls.keyFile}`,
              `--ssl-ca=${this.tls.caFile}`,
              '--require-secure-transport=ON',
            ]
          : []),
      ],
      { stdio: 'ignore' },
    );
    await eventually(() => accepts(this.port, this.tls !== undefined), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: `MariaDB on :${this.port}`,
    });
  }

  /** Kills the server (SIGKILL: a crash, not a shutdown) and waits until it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async destroy(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
