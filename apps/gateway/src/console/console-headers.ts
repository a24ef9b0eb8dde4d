import type { FastifyInstance } from 'fastify';

/** What every console answer carries: no framing, no inline script or style, nothing cached or leaked in a Referer. */
export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

/**
 * Adds {@link CONSOLE_SECURITY_HEADERS} to every answer of a console route (pages, actions,
 * assets, redirects and error pages alike), whatever produced it. Call before the app's routes
 * are registered (`app.listen()`), like the admin port's hook.
 */
export function registerConsoleHeaders(fastify: FastifyInstance): void {
  fastify.addHook('onSend', (request, reply, payload, done) => {
    const route = request.routeOptions.url;
    if (route === '/console' || route?.startsWith('/console/')) void reply.headers(CONSOLE_SECURITY_HEADERS);
    done(null, payload);
  });
}
