import { createServer, type IncomingMessage, type Server, type ServerOptions, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance, FastifyServerFactory } from 'fastify';

/** The gateway's two HTTP listeners: the public port (clients) and the admin port (operators). */
export type Listener = 'public' | 'admin';

const PUBLIC_ONLY: readonly Listener[] = ['public'];
const ADMIN_ONLY: readonly Listener[] = ['admin'];
const BOTH: readonly Listener[] = ['public', 'admin'];

/** The routes of the admin port: the admin API, the console, metrics, OpenAPI (page, assets, documents) and readiness. */
const ADMIN_ROUTES = /^\/(admin|console|metrics|docs|health\/ready)(\/|$)|^\/docs-(json|yaml)$/;

/**
 * The listeners a route is served on: the admin API (`/admin/...`), the console (`/console/...`), `/metrics`, `/docs` and
 * `/health/ready` on the admin port only, `/health/live` on both (a load balancer's probe and an
 * operator's), everything else (the tenant API) on the public port only. `route` is the pattern
 * Fastify's router matched (`/admin/tenants/:slug`), never the raw URL: the decision follows what
 * the router resolved, so no spelling of a path (percent-encoded, a trailing slash) reaches an
 * admin route through the public port.
 */
export function listenersOf(route: string): readonly Listener[] {
  if (route === '/health/live') return BOTH;
  return ADMIN_ROUTES.test(route) ? ADMIN_ONLY : PUBLIC_ONLY;
}

/** What Fastify applies to the servers it creates itself, and a `serverFactory` must apply on its own. */
interface HttpServerSettings {
  readonly http?: ServerOptions;
  readonly keepAliveTimeout?: number;
  readonly requestTimeout?: number;
  readonly connectionTimeout?: number;
  readonly maxRequestsPerSocket?: number;
}

/** An HTTP/1 server set up as Fastify sets up its own (fastify/lib/server.js, `getServerInstance`). */
function httpServer(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
  settings: HttpServerSettings,
): Server {
  const server = createServer(settings.http ?? {}, handler);
  if (settings.keepAliveTimeout !== undefined) server.keepAliveTimeout = settings.keepAliveTimeout;
  if (settings.requestTimeout !== undefined) server.requestTimeout = settings.requestTimeout;
  if (settings.connectionTimeout !== undefined) server.setTimeout(settings.connectionTimeout);
  if (settings.maxRequestsPerSocket !== undefined && settings.maxRequestsPerSocket > 0)
    server.maxRequestsPerSocket = settings.maxRequestsPerSocket;
  return server;
}

/**
 * The gateway's admin port: a second `http.Server` in front of the one Fastify instance (one Nest
 * app: the same modules, guards, filters, hooks and metrics registry on both ports, one close).
 *
 * - {@link serverFactory}, given to `FastifyAdapter`, creates the public server (the one Fastify
 *   listens with, `app.listen()`) and the admin server; both hand every request to Fastify's
 *   handler. The factory applies Fastify's server options (keep-alive, request and connection
 *   timeouts, `http`) to both, as Fastify does to the server it creates when there is no factory.
 *   With a factory, Fastify binds one address only: `HTTP_HOST=localhost` listens on the first
 *   address `localhost` resolves to, not on 127.0.0.1 and ::1 both.
 * - {@link install} adds the path filter, an `onRequest` hook: a route served on the other
 *   listener only answers as an unknown route does (the router's 404, the gateway's error body),
 *   before authentication, rate limits or any handler. It also closes the admin server with the
 *   app: on `app.close()` (SIGTERM, `installShutdown`) both servers stop accepting connections
 *   together (Fastify's `preClose`), requests that arrive meanwhile get Fastify's 503
 *   (`return503OnClosing`: the closing state is the Fastify instance's, so it covers both), idle
 *   keep-alive sockets are closed (as `forceCloseConnections: 'idle'` does for the public server),
 *   and `close()` resolves once in-flight requests on both have been answered.
 * - {@link listen} binds the admin server, after `app.listen()` (routes registered, Fastify ready).
 */
export class AdminPort {
  private admin?: Server;
  private readonly adminRequests = new WeakSet<IncomingMessage>();
  private adminClosed: Promise<void> = Promise.resolve();

  /** `FastifyAdapter`'s `serverFactory`: returns the public server, creates the admin server once. */
  readonly serverFactory: FastifyServerFactory = (handler, options) => {
    const settings = options as HttpServerSettings;
    this.admin ??= httpServer((request, response) => {
      this.adminRequests.add(request);
      handler(request, response);
    }, settings);
    return httpServer(handler, settings);
  };

  /** Adds the path filter and the admin server's close to `fastify`; call it before any other hook or plugin of the app's. */
  install(fastify: FastifyInstance): void {
    const admin = this.server;
    // Fastify answers malformed requests and timeouts (400, 408) from the public server's
    // `clientError` listener: the admin server's go to it too.
    admin.on('clientError', (error, socket) => fastify.server.emit('clientError', error, socket));
    fastify.addHook('onRequest', (request, reply, done) => {
      const route = request.routeOptions.url;
      const arrivedOn: Listener = this.adminRequests.has(request.raw) ? 'admin' : 'public';
      if (route === undefined || listenersOf(route).includes(arrivedOn)) {
        done();
        return;
      }
      // Not `done()`: the not-found handler answers, and nothing else of the route runs.
      reply.callNotFound();
    });
    fastify.addHook('preClose', (done) => {
      this.adminClosed = closeServer(admin);
      done();
    });
    fastify.addHook('onClose', () => this.adminClosed);
  }

  /** Binds the admin server; rejects on a bind error (the port taken, an address not on this host). */
  listen(port: number, host: string): Promise<AddressInfo> {
    const admin = this.server;
    return new Promise((resolve, reject) => {
      admin.once('error', reject);
      admin.listen(port, host, () => {
        admin.off('error', reject);
        resolve(admin.address() as AddressInfo);
      });
    });
  }

  /** Where the admin server listens (undefined before {@link listen}). */
  get address(): AddressInfo | undefined {
    return (this.admin?.address() as AddressInfo | null) ?? undefined;
  }

  private get server(): Server {
    if (!this.admin) throw new Error('AdminPort: give its serverFactory to FastifyAdapter first');
    return this.admin;
  }
}

/** Stops accepting connections, closes the idle ones; resolves once the busy ones have been answered. */
function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
