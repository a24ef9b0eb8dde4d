import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { DataSourceRouter } from '#polystore/data-router';
import { RequestContextStore } from '#polystore/tenancy';
import { lastValueFrom, Observable } from 'rxjs';

/**
 * Makes each tenant-scoped NATS message one lease scope of the store's data router: all the
 * handler's database work uses one DataSource lease, kept until its answer is ready (see
 * `DataSourceRouter.withLeaseScope`).
 */
@Injectable()
export class LeaseScopeInterceptor implements NestInterceptor {
  constructor(private readonly router: DataSourceRouter) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc' || !RequestContextStore.current()?.tenant) return next.handle();
    return new Observable((subscriber) => {
      this.router
        .withLeaseScope(() => lastValueFrom(next.handle(), { defaultValue: undefined }))
        .then(
          (value) => {
            subscriber.next(value);
            subscriber.complete();
          },
          (error: unknown) => subscriber.error(error),
        );
    });
  }
}
