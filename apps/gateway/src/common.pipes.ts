import { createParamDecorator, ParseUUIDPipe, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { GatewayException } from './gateway.exception.js';

/** Validates a UUID path parameter, naming it in the 400. */
export function uuidParam(name: string): ParseUUIDPipe {
  return new ParseUUIDPipe({ exceptionFactory: () => GatewayException.validation([`${name} must be a UUID`]) });
}

/** `Idempotency-Key` header values: 1-200 characters of [A-Za-z0-9._:-] (absent is fine). */
const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,200}$/;

/** The request's `Idempotency-Key` header, validated (a 400 naming it), or undefined when absent. */
export const IdempotencyKey = createParamDecorator((_: unknown, context: ExecutionContext): string | undefined => {
  const value = context.switchToHttp().getRequest<FastifyRequest>().headers['idempotency-key'];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !IDEMPOTENCY_KEY.test(value))
    throw GatewayException.validation(['Idempotency-Key must be 1-200 characters of [A-Za-z0-9._:-]']);
  return value;
});

/** OpenAPI description of the `Idempotency-Key` header of a create. */
export const IDEMPOTENCY_KEY_DOC =
  'A retried request with the same key gets the outcome of the first one (kept 24 h); the same key with a different body is 409 IDEMPOTENCY_MISMATCH';
