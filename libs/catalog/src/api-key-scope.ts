import { API_KEY_SCOPES } from '#polystore/messaging';

/**
 * What an API key may do on its tenant's routes:
 * - `full`: everything, managing API keys included;
 * - `read-only`: reads only (GET routes and the few POST routes that only read, like a search);
 * - `devices`: the device routes (register, list, read telemetry, renew credentials, delete).
 * A key with several scopes may do what any of them allows.
 * Defined with the gateway's request schemas (`libs/messaging`), which validate it.
 */
export { API_KEY_SCOPES };
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** The area a tenant route belongs to, for scope checks. */
export type RouteArea = 'data' | 'devices' | 'api-keys';

/** True when a key with `scopes` may call a route of `area` that reads only (`reads`) or writes. */
export function scopesAllow(scopes: readonly ApiKeyScope[], area: RouteArea, reads: boolean): boolean {
  return scopes.some((scope) => {
    switch (scope) {
      case 'full':
        return true;
      case 'read-only':
        return reads && area !== 'api-keys';
      case 'devices':
        return area === 'devices';
    }
  });
}
