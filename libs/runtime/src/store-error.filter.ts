import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { RpcErrorFilter } from '#polystore/messaging';
import type { Observable } from 'rxjs';
import { HttpErrorFilter } from './http-error.filter.js';

/**
 * A store's last-resort filter for both of its doors: NATS messages leave as wire errors
 * ({@link RpcErrorFilter}), HTTP requests (metrics, health, edge ingest) as JSON errors
 * ({@link HttpErrorFilter}).
 */
@Catch()
export class StoreErrorFilter implements ExceptionFilter {
  private readonly rpc = new RpcErrorFilter();
  private readonly http = new HttpErrorFilter();

  catch(exception: unknown, host: ArgumentsHost): Observable<unknown> | void {
    if (host.getType() === 'rpc') return this.rpc.catch(exception, host);
    this.http.catch(exception, host);
  }
}
