import { Catch, Logger, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import { ErrorKind, isCodedError } from '#polystore/platform';
import { throwError, type Observable } from 'rxjs';
import { ZodError } from 'zod';
import { toWireError, type WireError } from './wire-error.js';

/**
 * The stores' last-resort filter: every exception leaves as a {@link WireError}. Coded errors
 * keep their code; anything unexpected is logged here (with the correlation id from the
 * context) and leaves as a generic `INTERNAL`, with no message, SQL or stack.
 */
@Catch()
export class RpcErrorFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger(RpcErrorFilter.name);

  catch(exception: unknown, host: ArgumentsHost): Observable<WireError> {
    const wire = toWireError(exception);
    if (wire.kind === ErrorKind.INTERNAL && !(exception instanceof ZodError)) {
      const pattern =
        host.getType() === 'rpc'
          ? host.switchToRpc().getContext<{ getSubject?: () => string }>().getSubject?.()
          : undefined;
      this.logger.error(
        { err: isCodedError(exception) ? exception : sanitize(exception), subject: pattern },
        'unexpected error in handler',
      );
    }
    return throwError(() => wire);
  }
}

/** Keeps the error's class, message and stack for our logs (never for the caller). */
function sanitize(exception: unknown): Record<string, unknown> {
  if (exception instanceof Error) return { type: exception.name, message: exception.message, stack: exception.stack };
  return { type: typeof exception };
}
