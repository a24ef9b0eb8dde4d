import { createParamDecorator, ParseUUIDPipe, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { idempotencyKeySchema } from '#polystore/messaging';
import { GatewayException } from './gateway.exception.js';

/** Validates a UUID path parameter, naming it in the 400. */
export function uuidParam(name: string): ParseUUIDPipe {
  return new ParseUUIDPipe({ exceptionFactory: () => GatewayException.validation([`${name} must be a UUID`]) });
}

/**
 * The request's `Idempotency-Key` header, validated by the contracts' own schema (a 400 naming it),
 * or undefined when absent.
 */
export const IdempotencyKey = createParamDecorator((_: unknown, context: ExecutionContext): string | undefined => {
  const value = context.switchToHttp().getRequest<FastifyRequest>().headers['idempotency-key'];
  if (value === undefined) return undefined;
  // One header, in the contracts' format (a repeated header arrives as an array: refused the same way).
  const parsed = idempotencyKeySchema.safeParse(Array.isArray(value) ? '' : value);
  if (!parsed.success) throw GatewayException.validation([`Idempotency-Key ${parsed.error.issues[0]!.message}`]);
  return parsed.data;
});

/** OpenAPI description of the `Idempotency-Key` header of a create. */
export const IDEMPOTENCY_KEY_DOC =
  'A retried request with the same key gets the outcome of the first one (kept 24 h); the same key with a different body is 409 IDEMPOTENCY_MISMATCH';
