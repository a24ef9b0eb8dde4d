import { ParseUUIDPipe } from '@nestjs/common';
import { GatewayException } from './gateway.exception.js';

/** Validates a UUID path parameter, naming it in the 400. */
export function uuidParam(name: string): ParseUUIDPipe {
  return new ParseUUIDPipe({ exceptionFactory: () => GatewayException.validation([`${name} must be a UUID`]) });
}
