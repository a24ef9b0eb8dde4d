import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { CatalogService } from '#polystore/catalog';
import { parseHost } from '#polystore/tenancy';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';
import { GatewayException } from '../gateway.exception.js';
import { bearerToken, type AuthenticatedRequest } from './authenticated-request.js';

/**
 * Tenant routes: the Host names the tenant (`<slug>.<BASE_DOMAIN>`, validated before any
 * lookup: 400), the tenant must exist and be active (404), the bearer key must be valid (401)
 * and belong to that same tenant (403). Only then is the principal attached to the request.
 */
@Injectable()
export class TenantAuthGuard implements CanActivate {
  constructor(
    private readonly catalog: CatalogService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const target = parseHost(request.headers.host, this.config.BASE_DOMAIN);
    if (target.kind !== 'tenant') throw GatewayException.wrongHost(`<tenant>.${this.config.BASE_DOMAIN}`);
    await this.catalog.requireActiveTenant(target.tenant);
    const token = bearerToken(request);
    if (!token) throw GatewayException.unauthenticated();
    const principal = await this.catalog.authenticate(token);
    if (!principal) throw GatewayException.unauthenticated('invalid API key');
    if (principal.tenant !== target.tenant) throw GatewayException.wrongTenant();
    request.polystore = { tenant: target.tenant, keyId: principal.keyId };
    return true;
  }
}
