import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { eventually } from './eventually.js';
import { freePort } from './mariadb-server.js';
import type { ServerCertificate } from './tls-certs.js';

const BIN = '/usr/lib/postgresql/15/bin';

/**
 * Passwords checked over TCP (`scram-sha-256`) for every login but the superusers `root` and
 * `postgres`, which stay trusted (the test's administrative URL carries no password).
 */
const PASSWORDS_CHECKED = [
  'local all all trust',
  'host all root,postgres 127.0.0.1/32 trust',
  'host all all 127.0.0.1/32 scram-sha-256',
].join('\n');

/** TCP only over TLS (`hostssl`); the Unix socket stays open for the postgres user's tools. */
const HOSTSSL_ONLY = [
  'local all all trust',
  'hostssl all all 127.0.0.1/32 trust',
  'hostssl all all ::1/128 trust',
].join('\n');

function asPostgres(args: string[]): { status: number | null; output: string } {
  const result = spawnSync('runuser', ['-u', 'postgres', '--', ...args], { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

async function accepts(port: number, tls: boolean): Promise<boolean> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: 'postgres',
    database: 'postgres',
    connectionTimeoutMillis: 500,
    ...(tls ? { ssl: { rejectUnauthorized: false } } : {}),
  });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

/**
 * A PostgreSQL server of the test's own (the machine's PostgreSQL 15 binaries, `initdb` into a
 * temporary directory as the postgres user, a free port, trust auth, a `root` superuser), so a
 * test can stop it, restart it, or move a tenant to it without touching the shared server.
 *
 * With `tls` (a server certificate and key), the server has `ssl=on` and a `pg_hba.conf` of
 * `hostssl` lines only: TCP clients must use TLS (plaintext gets "no pg_hba.conf entry ... no
 * encryption"). With `checkPasswords`, every login but `root` and `postgres` must give its
 * password over TCP.
 */
export class PrivatePostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly tls: boolean,
  ) {}

  static async create(options: { tls?: ServerCertificate; checkPasswords?: boolean } = {}): Promise<PrivatePostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'polystore-pg-'));
    chmodSync(dir, 0o755);
    const ids = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, ids('-u'), ids('-g'));
    const init = asPostgres([`${BIN}/initdb`, '-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync']);
    if (init.status !== 0) throw new Error(`initdb failed: ${init.output}`);
    if (options.tls) {
      // The server reads them as the postgres user; it refuses a key others can read.
      for (const [from, to, mode] of [
        [options.tls.certFile, 'server.crt', 0o644],
        [options.tls.keyFile, 'server.key', 0o600],
      ] as const) {
        copyFileSync(from, join(dir, to));
        chmodSync(join(dir, to), mode);
        chownSync(join(dir, to), ids('-u'), ids('-g'));
      }
      // Root rewrites the postgres user's file in place (its owner stays the postgres user).
      writeFileSync(join(dir, 'data', 'pg_hba.conf'), `${HOSTSSL_ONLY}\n`);
    } else if (options.checkPasswords) {
      writeFileSync(join(dir, 'data', 'pg_hba.conf'), `${PASSWORDS_CHECKED}\n`);
    }
    const server = new PrivatePostgres(dir, await freePort(), options.tls !== undefined);
    await server.start();
    const created = spawnSync(
      `${BIN}/psql`,
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(server.port),
        '-U',
        'postgres',
        '-d',
        'postgres',
        '-c',
        'CREATE ROLE root SUPERUSER LOGIN',
      ],
      {
        encoding: 'utf8',
      },
    );
    if (created.status !== 0 && !created.stderr.includes('already exists'))
      throw new Error(`creating role root failed: ${created.stderr}`);
    return server;
  }

  /** `postgres://root@127.0.0.1:<port>` */
  get url(): string {
    return `postgres://root@127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const started = asPostgres([
      `${BIN}/pg_ctl`,
      '-D',
      join(this.dir, 'data'),
      '-l',
      join(this.dir, 'server.log'),
      '-o',
      `-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${this.dir} -c max_connections=60 -c fsync=off${this.tlsOptions()}`,
      '-w',
      'start',
    ]);
    if (started.status !== 0) throw new Error(`pg_ctl start failed: ${started.output}`);
    await eventually(() => accepts(this.port, this.tls), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: `PostgreSQL on :${this.port}`,
    });
  }

  private tlsOptions(): string {
    if (!this.tls) return '';
    return ` -c ssl=on -c ssl_cert_file=${join(this.dir, 'server.crt')} -c ssl_key_file=${join(this.dir, 'server.key')}`;
  }

  /** Stops the server at once (immediate mode: no checkpoint, like a crash from clients' view). */
  stop(): void {
    asPostgres([`${BIN}/pg_ctl`, '-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
  }

  destroy(): void {
    this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
