import type { FastifyInstance } from 'fastify';
import { Histogram, type Registry } from 'prom-client';

/** `polystore_http_request_seconds{method,route,status}`: route is the pattern, never the raw URL. */
export function registerHttpMetrics(fastify: FastifyInstance, registry: Registry): void {
  const histogram = new Histogram({
    name: 'polystore_http_request_seconds',
    help: 'HTTP requests served by the gateway',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    histogram.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });
  fastify.addHook('onSend', (request, reply, payload, done) => {
    void reply.header('x-request-id', request.id);
    done(null, payload);
  });
}
