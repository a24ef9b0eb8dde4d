import type { FastifyRequest } from 'fastify';
import type { TenantSlug } from '#polystore/tenancy';

/** What the tenant guard learned about a request: its tenant and the API key used. */
export interface TenantPrincipal {
  readonly tenant: TenantSlug;
  readonly keyId: string;
}

/** A Fastify request after the tenant guard. */
export type AuthenticatedRequest = FastifyRequest & { polystore?: TenantPrincipal };

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return null;
  const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header.trim());
  return match ? match[1]! : null;
}
