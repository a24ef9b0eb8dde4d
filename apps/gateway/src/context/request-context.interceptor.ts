import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { correlationIdOf } from '#polystore/runtime';
import { RequestContextStore, type RequestContext } from '#polystore/tenancy';
import { Observable } from 'rxjs';
import type { AuthenticatedRequest } from '../auth/authenticated-request.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';

/**
 * Runs each HTTP handler inside its {@link RequestContext}: correlation id, deadline
 * (REQUEST_TIMEOUT_MS from now) and, after the tenant guard, tenant and key id. Every service
 * and every NATS call below reads them from there; nothing is request-scoped.
 */
@Injectable()
export class RequestContextInterceptor implements NestInterceptor {
  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  intercept(execution: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (execution.getType() !== 'http') return next.handle();
    const request = execution.switchToHttp().getRequest<AuthenticatedRequest>();
    const context: RequestContext = {
      correlationId: correlationIdOf(request.raw),
      deadline: Date.now() + this.config.REQUEST_TIMEOUT_MS,
      ...(request.polystore ? { tenant: request.polystore.tenant, actor: request.polystore.keyId } : {}),
    };
    return new Observable((subscriber) => RequestContextStore.run(context, () => next.handle().subscribe(subscriber)));
  }
}
