import { request } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { eventually } from '../../../test/support/eventually.js';
import { AdminPort, listenersOf } from '../src/admin-port.js';

/** A GET on 127.0.0.1:`port` (no keep-alive): its status, or the connection error's code. */
function get(port: number, path: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.end();
  });
}

/** Writes `raw` on a new connection and resolves with everything the server sent until it closed. */
function exchange(port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(raw));
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
  });
}

describe('admin port - where each route is served', () => {
  it('admin port - the admin API, the console, metrics, OpenAPI and readiness on the admin port only, /health/live on both, the tenant API on the public port only', () => {
    for (const route of ['/admin', '/admin/tenants', '/admin/tenants/:slug/api-keys', '/admin/sagas/:id/retry'])
      expect([route, listenersOf(route)]).toEqual([route, ['admin']]);
    for (const route of [
      '/console',
      '/console/',
      '/console/login',
      '/console/tenants/:slug',
      '/console/assets/htmx.min.js',
    ])
      expect([route, listenersOf(route)]).toEqual([route, ['admin']]);
    for (const route of ['/metrics', '/docs', '/docs/', '/docs/*', '/docs-json', '/docs-yaml', '/health/ready'])
      expect([route, listenersOf(route)]).toEqual([route, ['admin']]);
    expect(listenersOf('/health/live')).toEqual(['public', 'admin']);
    for (const route of [
      '/v1/customers/:id',
      '/v1/api-keys',
      '/health',
      '/administrators',
      '/metricsx',
      '/docsy',
      '/consoles',
    ])
      expect([route, listenersOf(route)]).toEqual([route, ['public']]);
  });
});

describe('admin port - one Fastify instance behind two servers', () => {
  let fastify: FastifyInstance | undefined;

  afterEach(async () => {
    await fastify?.close();
    fastify = undefined;
  });

  /**
   * Fastify on two ports (both 127.0.0.1) with the gateway's route layout; `/admin/slow` resolves
   * `entered` when it starts and answers when `release` is called.
   */
  async function start(options: FastifyServerOptions = {}) {
    const adminPort = new AdminPort();
    let release = (): void => undefined;
    let enter = (): void => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const entered = new Promise<void>((resolve) => (enter = resolve));
    const app = Fastify({ ...options, serverFactory: adminPort.serverFactory, return503OnClosing: true });
    fastify = app;
    adminPort.install(app);
    for (const path of [
      '/admin/tenants/:slug',
      '/console/tenants',
      '/metrics',
      '/health/ready',
      '/health/live',
      '/v1/customers/:id',
    ])
      app.get(path, () => ({ path }));
    app.get('/admin/slow', async () => {
      enter();
      await released;
      return { slow: true };
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const admin = await adminPort.listen(0, '127.0.0.1');
    return { publicPort: app.server.address() as { port: number }, admin, entered, release };
  }

  it('admin port - each server serves its routes only: the others answer the router 404, whatever the spelling of the path', async () => {
    const { publicPort, admin } = await start();
    const on = (port: number, paths: string[]) => Promise.all(paths.map((path) => get(port, path)));
    const internal = [
      '/admin/tenants/acme',
      '/admin/tenants/%61cme',
      '/%61dmin/tenants/acme',
      '/console/tenants',
      '/%63onsole/tenants',
      '/metrics',
      '/health/ready',
    ];
    expect(await on(publicPort.port, internal)).toEqual([404, 404, 404, 404, 404, 404, 404]);
    expect(await on(admin.port, internal)).toEqual([200, 200, 200, 200, 200, 200, 200]);
    expect(await on(publicPort.port, ['/v1/customers/1', '/health/live'])).toEqual([200, 200]);
    expect(await on(admin.port, ['/v1/customers/1', '/health/live'])).toEqual([404, 200]);
    expect(await on(admin.port, ['/nowhere'])).toEqual([404]);
  });

  it('admin port - a malformed request on the admin port gets the answer Fastify gives on the public port (its clientError handler)', async () => {
    const { publicPort, admin } = await start();
    const bad = 'NOT-HTTP\r\n\r\n';
    const fromPublic = await exchange(publicPort.port, bad);
    expect(fromPublic).toMatch(/^HTTP\/1\.1 400/);
    expect(fromPublic).toContain('"statusCode":400');
    expect(await exchange(admin.port, bad)).toBe(fromPublic);
  });

  it("admin port - Fastify's server options (here connectionTimeout) apply to the admin server too", async () => {
    const { admin } = await start({ connectionTimeout: 200 });
    // A connection that sends nothing is closed by the server after connectionTimeout; without
    // it, Node would keep it a minute (headersTimeout), past this test's timeout.
    const started = Date.now();
    await expect(exchange(admin.port, '')).resolves.toBe('');
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 20_000);

  it('admin port - close() stops both servers at once, answers the request in flight on the admin port, and resolves once it is done', async () => {
    const { publicPort, admin, entered, release } = await start();
    const inFlight = get(admin.port, '/admin/slow');
    await entered;
    let closed = false;
    const closing = fastify!.close().then(() => (closed = true));
    fastify = undefined;
    await eventually(async () => (await get(admin.port, '/health/live')) === 'ECONNREFUSED', {
      what: 'the admin port refusing connections',
    });
    expect(await get(publicPort.port, '/health/live')).toBe('ECONNREFUSED');
    expect(closed).toBe(false);
    release();
    expect(await inFlight).toBe(200);
    await closing;
    expect(closed).toBe(true);
  });
});
