import { SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import { scopesAllow, type ApiKeyPrincipal, type RouteArea } from '#polystore/catalog';
import type { FastifyRequest } from 'fastify';
import { GatewayException } from '../gateway.exception.js';

const AREA = 'polystore:key-area';
const READS = 'polystore:reads-only';

/** The area of a controller's or handler's routes for API-key scopes (default `data`). */
export const KeyArea = (area: RouteArea) => SetMetadata(AREA, area);

/** Marks a POST route that only reads (a search): a `read-only` key may call it. */
export const ReadsOnly = () => SetMetadata(READS, true);

/**
 * `SCOPE_DENIED` (403) unless the principal's scopes allow the route: its area (handler, then
 * controller, else `data`) and whether it only reads (`GET`/`HEAD`, or marked {@link ReadsOnly}).
 */
export function assertScopeAllows(reflector: Reflector, context: ExecutionContext, principal: ApiKeyPrincipal): void {
  const targets = [context.getHandler(), context.getClass()];
  const area = reflector.getAllAndOverride<RouteArea | undefined>(AREA, targets) ?? 'data';
  const method = context.switchToHttp().getRequest<FastifyRequest>().method;
  const reads = method === 'GET' || method === 'HEAD' || reflector.getAllAndOverride<boolean>(READS, targets) === true;
  if (!scopesAllow(principal.scopes, area, reads)) throw GatewayException.scopeDenied(principal.scopes, area, reads);
}
