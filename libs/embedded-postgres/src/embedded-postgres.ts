import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';
import { fatalError, readStartupPacket } from './startup-message.js';

export interface EmbeddedPostgresOptions {
  /** Folder of every cluster (created if missing; a restart on the same folder keeps the data). */
  readonly dataDir: string;
  readonly host?: string;
  /**
   * Port clients connect to. 0 (default): the port this folder was served on last time, or any
   * free port the first time. The port is remembered (`<dataDir>/port`) because clients keep it:
   * the catalog stores each tenant database's server URL.
   */
  readonly port?: number;
  /** Sessions one database accepts at once: at least the sum of its clients' pool sizes. */
  readonly maxConnectionsPerDatabase?: number;
  readonly log?: (message: string) => void;
}

/** One PGlite cluster served on a private loopback port. */
interface Cluster {
  readonly db: PGlite;
  readonly server: PGLiteSocketServer;
  readonly port: number;
}

const ADMIN_DATABASES = new Set(['postgres', 'template1']);
const USER = 'postgres';

/**
 * A PostgreSQL server without a server: PGlite (PostgreSQL compiled to WebAssembly) behind one
 * TCP port that speaks the normal wire protocol, so `pg`, TypeORM and psql connect as to any
 * PostgreSQL, and `CREATE DATABASE` / `DROP DATABASE` work.
 *
 * PGlite runs one database per instance, so the port is a router: it reads each session's
 * startup message and hands the session to the cluster of the database it names. The admin
 * cluster (databases `postgres` and `template1`) owns the list of databases (`pg_database`);
 * each other database lives in its own cluster under `<dataDir>/databases/<oid>`, created from a
 * pristine template the first time a session opens it, so a database dropped and created again
 * starts empty. A session for a database the admin cluster does not list is refused with 3D000,
 * as PostgreSQL does.
 *
 * For development and the zero-server quickstart only: each cluster runs one statement at a
 * time (sessions are queued, a transaction holds its cluster until it ends), all sessions of a
 * cluster share one backend (advisory locks do not exclude each other), and each open cluster
 * costs about 150 MB of memory.
 */
export class EmbeddedPostgres {
  private readonly clusters = new Map<number, Promise<Cluster>>();
  private readonly sessions = new Set<Socket>();
  private lookup?: pg.Client;
  private router!: Server;
  private stopping = false;

  private constructor(
    private readonly options: Required<Omit<EmbeddedPostgresOptions, 'log'>> & Pick<EmbeddedPostgresOptions, 'log'>,
    private readonly admin: Cluster,
    private readonly releaseLock: () => void,
  ) {}

  /** Opens (or creates) the clusters under `dataDir` and starts listening. */
  static async start(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
    const settings = {
      host: '127.0.0.1',
      port: 0,
      maxConnectionsPerDatabase: 64,
      ...options,
      dataDir: resolve(options.dataDir),
    };
    mkdirSync(join(settings.dataDir, 'databases'), { recursive: true });
    // PGlite does not guard its folders: two processes on one cluster would corrupt it.
    const releaseLock = lockDataDir(settings.dataDir);
    try {
      const template = join(settings.dataDir, 'template');
      if (!existsSync(template)) {
        settings.log?.(`initialising the embedded PostgreSQL in ${settings.dataDir} (first start only, a few seconds)`);
        rmSync(`${template}.new`, { recursive: true, force: true });
        const fresh = await PGlite.create(`${template}.new`);
        await fresh.close();
        renameSync(`${template}.new`, template);
      }
      const admin = await openCluster(
        clusterDir(settings.dataDir, 'server', template),
        settings.maxConnectionsPerDatabase,
      );
      const embedded = new EmbeddedPostgres(settings, admin, releaseLock);
      try {
        await embedded.listen();
        await embedded.pruneDroppedDatabases();
      } catch (error) {
        await embedded.lookup?.end().catch(() => undefined);
        await admin.server.stop();
        await admin.db.close();
        throw error;
      }
      return embedded;
    } catch (error) {
      releaseLock();
      throw error;
    }
  }

  /** The port clients connect to. */
  get port(): number {
    return (this.router.address() as AddressInfo).port;
  }

  /** `postgres://postgres@<host>:<port>[/<database>]` (no password: the router is loopback-only). */
  url(database?: string): string {
    return `postgres://${USER}@${this.options.host}:${this.port}${database ? `/${database}` : ''}`;
  }

  /** Closes every session, then every cluster (each checkpoints to disk). */
  async stop(): Promise<void> {
    this.stopping = true;
    await new Promise<void>((done) => {
      this.router.close(() => done());
      for (const session of this.sessions) session.destroy();
    });
    await this.lookup?.end().catch(() => undefined);
    const clusters = await Promise.allSettled([...this.clusters.values()]);
    for (const cluster of [this.admin, ...clusters.flatMap((c) => (c.status === 'fulfilled' ? [c.value] : []))]) {
      await cluster.server.stop();
      await cluster.db.close();
    }
    this.releaseLock();
  }

  private async listen(): Promise<void> {
    const lookup = new pg.Client({ host: '127.0.0.1', port: this.admin.port, user: USER, database: 'postgres' });
    this.lookup = lookup;
    await lookup.connect();
    this.router = createServer((socket) => this.accept(socket));
    const portFile = join(this.options.dataDir, 'port');
    const port = this.options.port || (existsSync(portFile) ? Number(readFileSync(portFile, 'utf8')) : 0);
    await new Promise<void>((done, fail) => {
      this.router.once('error', (error: NodeJS.ErrnoException) =>
        fail(
          error.code === 'EADDRINUSE'
            ? new Error(`port ${port} of the embedded PostgreSQL (${portFile}) is taken by another program`)
            : error,
        ),
      );
      this.router.listen(port, this.options.host, () => done());
    });
    writeFileSync(portFile, String(this.port));
  }

  /** Reads the session's first packet, then splices the socket to its database's cluster. */
  private accept(client: Socket): void {
    this.sessions.add(client);
    client.once('close', () => this.sessions.delete(client));
    client.on('error', () => client.destroy());
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const packet = readStartupPacket(buffered);
        if (packet.kind === 'incomplete') return;
        if (packet.kind === 'encryption-request') {
          client.write('N'); // no TLS on loopback; the client goes on in clear or gives up
          buffered = buffered.subarray(packet.length);
          continue;
        }
        client.off('data', onData);
        if (packet.kind === 'cancel') return void client.end();
        if (packet.kind === 'invalid') return void client.end(fatalError('08P01', packet.reason));
        client.pause();
        const database = packet.parameters.get('database') ?? packet.parameters.get('user') ?? USER;
        this.route(database).then(
          (cluster) => this.splice(client, cluster, buffered),
          (error: Error & { sqlState?: string }) => client.end(fatalError(error.sqlState ?? '58000', error.message)),
        );
        return;
      }
    };
    client.on('data', onData);
  }

  private splice(client: Socket, cluster: Cluster, startup: Buffer): void {
    if (this.stopping || client.destroyed) return void client.destroy();
    const upstream = connect(cluster.port, '127.0.0.1');
    const close = (): void => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', close);
    upstream.on('close', close);
    client.on('close', close);
    upstream.write(startup);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  private async route(database: string): Promise<Cluster> {
    if (ADMIN_DATABASES.has(database)) return this.admin;
    const result = await this.lookup!.query<{ oid: number }>(
      'SELECT oid::int AS oid FROM pg_database WHERE datname = $1',
      [database],
    );
    const oid = result.rows[0]?.oid;
    if (oid === undefined) {
      throw Object.assign(new Error(`database "${database}" does not exist`), { sqlState: '3D000' });
    }
    let cluster = this.clusters.get(oid);
    if (!cluster) {
      this.options.log?.(`opening embedded database ${database}`);
      cluster = openCluster(
        clusterDir(this.options.dataDir, join('databases', String(oid)), join(this.options.dataDir, 'template')),
        this.options.maxConnectionsPerDatabase,
      );
      cluster.catch(() => this.clusters.delete(oid));
      this.clusters.set(oid, cluster);
    }
    return cluster;
  }

  /** Deletes the clusters of databases dropped while the process ran (their oid is gone). */
  private async pruneDroppedDatabases(): Promise<void> {
    const { rows } = await this.lookup!.query<{ oid: number }>('SELECT oid::int AS oid FROM pg_database');
    const live = new Set(rows.map((r) => String(r.oid)));
    for (const entry of readdirSync(join(this.options.dataDir, 'databases'))) {
      if (!live.has(entry)) rmSync(join(this.options.dataDir, 'databases', entry), { recursive: true, force: true });
    }
  }
}

/**
 * Takes `<dataDir>/lock` (holding this process's pid) or fails naming the process that holds it;
 * a lock left by a process that is gone is taken over. Returns the release.
 */
function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' });
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(path, 'utf8'));
      if (isAlive(holder)) throw new Error(`${dataDir} is in use by process ${holder}`, { cause: error });
      rmSync(path, { force: true });
    }
  }
  throw new Error(`cannot lock ${dataDir}`);
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `<dataDir>/<name>`, copied from the template when it does not exist yet. */
function clusterDir(dataDir: string, name: string, template: string): string {
  const dir = join(dataDir, name);
  if (!existsSync(dir)) {
    // Copied aside then renamed: a crash mid-copy leaves no half cluster under the real name.
    rmSync(`${dir}.copy`, { recursive: true, force: true });
    cpSync(template, `${dir}.copy`, { recursive: true });
    renameSync(`${dir}.copy`, dir);
  }
  return dir;
}

async function openCluster(dir: string, maxConnections: number): Promise<Cluster> {
  const db = await PGlite.create(dir);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections });
  await server.start();
  const port = Number(server.getServerConn().split(':').pop());
  return { db, server, port };
}
