import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '../support/eventually.js';
import { httpRequest } from '../support/http.js';
import { freePort } from '../support/mariadb-server.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const MAIN = join(ROOT, 'dist/apps/quickstart/src/main.js');
const run = promisify(execFile);
/** Ports of the servers the distributed stack uses: the quickstart must never connect to them. */
const STANDARD_PORTS = new Set([5432, 3306, 4222, 1883, 1884, 6379, 5672, 27017]);

/** `npm start` (what it runs after the build), in a folder of its own, everything it printed kept. */
class Quickstart {
  readonly lines: string[] = [];
  private readonly exit: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    let partial = '';
    const collect = (chunk: Buffer): void => {
      partial += chunk.toString('utf8');
      const complete = partial.split('\n');
      partial = complete.pop() ?? '';
      this.lines.push(...complete);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exit = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static start(cwd: string, env: Record<string, string>): Quickstart {
    return new Quickstart(spawn(process.execPath, [MAIN], { cwd, env: { ...process.env, ...env }, stdio: 'pipe' }));
  }

  get output(): string {
    return this.lines.join('\n');
  }

  async ready(): Promise<void> {
    await eventually(
      () => {
        if (this.child.exitCode !== null)
          throw new Error(`exited ${this.child.exitCode}:\n${this.output.slice(-3000)}`);
        return this.lines.includes('[quickstart] ready');
      },
      { timeoutMs: 90_000, intervalMs: 50, what: 'the quickstart banner' },
    );
  }

  /** A value the banner printed, by the regular expression that captures it. */
  shown(pattern: RegExp): string {
    const match = pattern.exec(this.output);
    if (!match?.[1]) throw new Error(`${pattern} not in the banner:\n${this.output}`);
    return match[1];
  }

  async stop(): Promise<number | null> {
    this.child.kill('SIGTERM');
    return this.exit;
  }

  waitForExit(): Promise<number | null> {
    return this.exit;
  }
}

/** Peer ports of the TCP connections `pid` has open (from `ss`), or undefined when ss is missing. */
function peerPortsOf(pid: number): number[] | undefined {
  const ss = spawnSync('ss', ['-tnpH'], { encoding: 'utf8' });
  if (ss.status !== 0) return undefined;
  return ss.stdout
    .split('\n')
    .filter((line) => line.includes(`pid=${pid},`))
    .map((line) => Number(line.trim().split(/\s+/)[4]?.split(':').pop()));
}

/**
 * `npm start`: the whole system in one process with no server. Every real-server URL points at
 * a closed port, so anything that used one would fail; the test also checks that the process
 * holds no connection to a standard service port.
 */
describe('quickstart - npm start without any server (e2e)', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'ps-quickstart-'));
  let env: Record<string, string>;
  let quickstart: Quickstart;
  let gatewayPort: number;
  let adminPort: number;
  let ingestPort: number;
  const created: { customerId?: string; deviceId?: string; apiKey?: string } = {};

  beforeAll(async () => {
    const closed = await freePort();
    env = {
      SYSTEM_DB_URL: `postgres://root@127.0.0.1:${closed}/polystore_system`,
      SECURE_SERVER_URL: `postgres://root@127.0.0.1:${closed}`,
      RELIABLE_SERVER_URL: `mysql://root@127.0.0.1:${closed}`,
      EDGE_SERVER_URL: `postgres://root@127.0.0.1:${closed}`,
      NATS_URL: `nats://127.0.0.1:${closed}`,
      DEVICE_BROKER_URL: `nats://127.0.0.1:${closed}`,
      GATEWAY_PORT: '0',
      ADMIN_PORT: '0',
      EDGE_HTTP_PORT: '0',
    };
    quickstart = Quickstart.start(cwd, env);
    await quickstart.ready();
    gatewayPort = Number(quickstart.shown(/Gateway +http:\/\/localhost:(\d+)/));
    adminPort = Number(quickstart.shown(/Admin API +http:\/\/localhost:(\d+)/));
    ingestPort = Number(quickstart.shown(/Device ingest +http:\/\/localhost:(\d+)/));
  }, 120_000);

  afterAll(async () => {
    if (quickstart?.child.exitCode === null) await quickstart.stop();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('prints the URLs, the demo tenant with its API key, and commands that work as pasted', async () => {
    expect(quickstart.output).toContain('MQTT needs the full stack');
    const commands = quickstart.lines.filter((line) => line.startsWith('  curl ')).map((line) => line.trim());
    expect(commands).toHaveLength(4);

    const customer = JSON.parse((await run('sh', ['-c', commands[0]!])).stdout) as { id: string; email: string };
    expect(customer).toMatchObject({ id: expect.any(String), email: 'ada@example.com' });
    const device = JSON.parse((await run('sh', ['-c', commands[1]!])).stdout) as { id: string; token: string };
    expect(device).toMatchObject({ id: expect.any(String), token: expect.any(String) });
    expect(JSON.parse((await run('sh', ['-c', commands[2]!])).stdout)).toEqual({ accepted: 1 });
    const telemetry = JSON.parse((await run('sh', ['-c', commands[3]!])).stdout) as { points: unknown[] };
    expect(telemetry.points).toEqual([expect.objectContaining({ metrics: { temperature: 21.5 } })]);
  }, 60_000);

  it('serves a new tenant: customer created and read, device registered, HTTP ingest, telemetry read', async () => {
    const adminToken = (
      JSON.parse(readFileSync(join(cwd, '.polystore/quickstart/dev-secrets.json'), 'utf8')) as { adminToken: string }
    ).adminToken;
    // The admin API (and readiness) on the admin port the banner shows, not on the gateway's port.
    const ready = await httpRequest({ port: adminPort, path: '/health/ready', host: 'localhost' });
    expect(ready.status).toBe(200);
    expect((await httpRequest({ port: gatewayPort, path: '/health/ready', host: 'localhost' })).status).toBe(404);
    const tenant = await httpRequest<{ apiKey: string }>({
      port: adminPort,
      method: 'POST',
      path: '/admin/tenants',
      host: 'localhost',
      headers: { authorization: `Bearer ${adminToken}` },
      body: { slug: 'acme', name: 'Acme' },
      timeoutMs: 60_000,
    });
    expect(tenant.status).toBe(201);
    created.apiKey = tenant.body.apiKey;
    const asAcme = {
      port: gatewayPort,
      host: 'acme.localhost',
      headers: { authorization: `Bearer ${created.apiKey}` },
    };

    const customer = await httpRequest<{ id: string }>({
      ...asAcme,
      method: 'POST',
      path: '/v1/customers',
      body: { name: 'Grace Hopper', email: 'grace@example.com', phone: '+1 555 0100' },
    });
    expect(customer.status).toBe(201);
    created.customerId = customer.body.id;
    const read = await httpRequest({ ...asAcme, path: `/v1/customers/${created.customerId}` });
    expect(read.body).toMatchObject({ name: 'Grace Hopper', email: 'grace@example.com', phone: '+1 555 0100' });

    const device = await httpRequest<{ id: string; token: string }>({
      ...asAcme,
      method: 'POST',
      path: '/v1/devices',
      body: { name: 'Line 3 meter', model: 'pm-9' },
    });
    expect(device.status).toBe(201);
    created.deviceId = device.body.id;
    const now = Date.now();
    const ingest = await httpRequest({
      port: ingestPort,
      method: 'POST',
      path: '/ingest',
      headers: { authorization: `Bearer ${device.body.token}` },
      body: [1, 2, 3].map((seq) => ({ seq, ts: now - 1_000 * seq, metrics: { power: seq * 10 } })),
    });
    expect(ingest).toMatchObject({ status: 202, body: { accepted: 3 } });
    // Bad input: a clear 4xx naming the field, nothing stored.
    const bad = await httpRequest<{ message: string }>({
      port: ingestPort,
      method: 'POST',
      path: '/ingest',
      headers: { authorization: `Bearer ${device.body.token}` },
      body: { seq: 4, ts: 'yesterday', metrics: { power: 1 } },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('ts');

    const telemetry = await httpRequest<{ points: Array<{ seq: number }> }>({
      ...asAcme,
      path: `/v1/devices/${created.deviceId}/telemetry?from=${new Date(now - 3_600_000).toISOString()}&to=${new Date(now + 60_000).toISOString()}`,
    });
    expect(telemetry.body.points.map((p) => p.seq).sort()).toEqual([1, 2, 3]);
  }, 90_000);

  it('never connects to a standard service port', () => {
    const ports = peerPortsOf(quickstart.child.pid!);
    if (ports === undefined) {
      process.stderr.write(
        'ss (iproute2) is not installed: the connection check is skipped; the closed URLs still apply\n',
      );
      return;
    }
    expect(ports.filter((port) => STANDARD_PORTS.has(port))).toEqual([]);
  });

  it('stops cleanly on SIGTERM and keeps every tenant, customer and reading across a restart', async () => {
    const demoKey = quickstart.shown(/API key: (\S+)/);
    expect(await quickstart.stop()).toBe(0);

    quickstart = Quickstart.start(cwd, env);
    await quickstart.ready();
    expect(quickstart.shown(/API key: (\S+)/)).toBe(demoKey);
    gatewayPort = Number(quickstart.shown(/Gateway +http:\/\/localhost:(\d+)/));
    const asAcme = {
      port: gatewayPort,
      host: 'acme.localhost',
      headers: { authorization: `Bearer ${created.apiKey}` },
    };

    const read = await httpRequest({ ...asAcme, path: `/v1/customers/${created.customerId}` });
    expect(read).toMatchObject({ status: 200, body: { name: 'Grace Hopper', email: 'grace@example.com' } });
    const telemetry = await httpRequest<{ points: Array<{ seq: number }> }>({
      ...asAcme,
      path: `/v1/devices/${created.deviceId}/telemetry?from=${new Date(Date.now() - 3_600_000).toISOString()}&to=${new Date(Date.now() + 60_000).toISOString()}`,
    });
    expect(telemetry.body.points.map((p) => p.seq).sort()).toEqual([1, 2, 3]);
    const demo = await httpRequest<{ items: unknown[] }>({
      port: gatewayPort,
      method: 'POST',
      path: '/v1/customers/search',
      host: 'demo.localhost',
      headers: { authorization: `Bearer ${demoKey}` },
      body: { email: 'ada@example.com' },
    });
    expect(demo.body.items).toHaveLength(1);
  }, 120_000);

  it('keeps every acknowledged write through a kill -9 (the embedded PostgreSQL recovers from its WAL)', async () => {
    const asAcme = {
      port: gatewayPort,
      host: 'acme.localhost',
      headers: { authorization: `Bearer ${created.apiKey}` },
    };
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const customer = await httpRequest<{ id: string }>({
        ...asAcme,
        method: 'POST',
        path: '/v1/customers',
        body: { name: `Killed ${i}`, email: `killed${i}@example.com` },
      });
      expect(customer.status).toBe(201);
      ids.push(customer.body.id);
    }
    quickstart.child.kill('SIGKILL');
    await quickstart.waitForExit();

    quickstart = Quickstart.start(cwd, env);
    await quickstart.ready(); // its folder's lock, held by the killed process, is taken over
    const port = Number(quickstart.shown(/Gateway +http:\/\/localhost:(\d+)/));
    for (const [i, id] of ids.entries()) {
      const read = await httpRequest({ ...asAcme, port, path: `/v1/customers/${id}` });
      expect(read).toMatchObject({ status: 200, body: { name: `Killed ${i}` } });
    }
  }, 120_000);

  it('refuses a bad setting with a message naming the variable, before starting anything', async () => {
    const bad = Quickstart.start(cwd, { ...env, EMBEDDED_PG_PORT: 'five' });
    expect(await bad.waitForExit()).toBe(1);
    expect(bad.output).toContain('EMBEDDED_PG_PORT');
  });
});
