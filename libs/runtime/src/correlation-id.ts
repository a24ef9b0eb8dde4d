import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const CORRELATION = Symbol('polystore.correlationId');
const SAFE_ID = /^[A-Za-z0-9._:-]{8,64}$/;

/**
 * The request's correlation id: the caller's `X-Request-Id` when it is a safe token, otherwise
 * a fresh UUID. Computed once per raw request, so Fastify, the access log and the request
 * context all agree.
 */
export function correlationIdOf(req: IncomingMessage): string {
  const tagged = req as IncomingMessage & { [CORRELATION]?: string };
  if (tagged[CORRELATION]) return tagged[CORRELATION];
  const header = req.headers['x-request-id'];
  const id = typeof header === 'string' && SAFE_ID.test(header) ? header : randomUUID();
  tagged[CORRELATION] = id;
  return id;
}
