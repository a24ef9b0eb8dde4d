import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { constantTimeEqual } from '#polystore/platform';
import { parseHost } from '#polystore/tenancy';
import { ADMIN_TOKEN, GATEWAY_CONFIG, type GatewayConfig } from '../config.js';
import { GatewayException } from '../gateway.exception.js';
import { bearerToken, type AuthenticatedRequest } from './authenticated-request.js';

/** Admin routes: served on BASE_DOMAIN itself, with `Authorization: Bearer <ADMIN_TOKEN>`. */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(ADMIN_TOKEN) private readonly adminToken: string,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (parseHost(request.headers.host, this.config.BASE_DOMAIN).kind !== 'base') {
      throw GatewayException.wrongHost(this.config.BASE_DOMAIN);
    }
    const token = bearerToken(request);
    if (!token || !constantTimeEqual(token, this.adminToken))
      throw GatewayException.unauthenticated('admin token required');
    return true;
  }
}
