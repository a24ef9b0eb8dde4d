import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { CatalogService, type ApiKeyPrincipal } from '#polystore/catalog';
import { parseHost, type TenantSlug } from '#polystore/tenancy';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config.js';
import { GatewayException } from '../gateway.exception.js';
import { ApiKeyUsage } from '../api-keys/api-key-usage.service.js';
import { bearerToken, type AuthenticatedRequest } from './authenticated-request.js';
import { RequestLimits } from './request-limits.service.js';
import { assertScopeAllows } from './route-access.js';

/**
 * Tenant routes: the Host names the tenant (`<slug>.<BASE_DOMAIN>`, validated before any
 * lookup: 400). The tenant must exist and be active, and the bearer key must be valid and that
 * tenant's, else one and the same 401, whichever failed (no answer tells which tenants exist; a
 * key of another tenant gets it too); each 401 counts against the client address, which past
 * `AUTH_FAILURE_LIMIT_PER_MIN` is refused before routing (429, {@link RequestLimits}). The key
 * and the tenant must be within their rate limits (429). Only then is the principal attached.
 */
@Injectable()
export class TenantAuthGuard implements CanActivate {
  constructor(
    private readonly catalog: CatalogService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    private readonly reflector: Reflector,
    private readonly usage: ApiKeyUsage,
    private readonly limits: RequestLimits,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const target = parseHost(request.headers.host, this.config.BASE_DOMAIN);
    if (target.kind !== 'tenant') throw GatewayException.wrongHost(`<tenant>.${this.config.BASE_DOMAIN}`);
    const principal = await this.principalOf(target.tenant, bearerToken(request));
    if (!principal) {
      await this.limits.countAuthFailure(request);
      throw GatewayException.unauthenticated();
    }
    await this.limits.admit(request, principal);
    request.polystore = { tenant: target.tenant, keyId: principal.keyId };
    assertScopeAllows(this.reflector, context, principal);
    this.usage.record(principal.keyId);
    return true;
  }

  /**
   * The key's principal when the tenant is active and the key is valid and that tenant's, else
   * null, whichever of these failed. Both lookups are made in every case, so that an unknown
   * tenant costs what a wrong key costs: neither the answer nor its timing tells them apart.
   */
  private async principalOf(tenant: TenantSlug, token: string | null): Promise<ApiKeyPrincipal | null> {
    if (!token) return null;
    const [record, principal] = await Promise.all([this.catalog.findTenant(tenant), this.catalog.authenticate(token)]);
    return record?.status === 'active' && principal?.tenant === tenant ? principal : null;
  }
}
