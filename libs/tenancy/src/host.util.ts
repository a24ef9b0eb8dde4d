import { TenancyException } from './tenancy.exception.js';
import { isTenantSlug, type TenantSlug } from './tenant-slug.js';

/** What a Host header designates: the base domain itself (admin API) or one tenant. */
export type HostTarget = { readonly kind: 'base' } | { readonly kind: 'tenant'; readonly tenant: TenantSlug };

const MAX_HOST_LENGTH = 253;
const HOST_CHARS = /^[a-z0-9.-]+$/;

/**
 * Parses a Host header (`acme.example.com`, `acme.example.com:3000`) against `baseDomain`.
 *
 * Host names are case-insensitive, so the header is lower-cased first. Anything that is not
 * exactly `<slug>.<baseDomain>` or `<baseDomain>` is refused with `MALFORMED_HOST` before any
 * lookup: no second-level labels, no other domains, no characters outside `[a-z0-9.-]`.
 */
export function parseHost(host: string | undefined, baseDomain: string): HostTarget {
  if (!host || host.length > MAX_HOST_LENGTH + 6) throw TenancyException.malformedHost();
  const name = stripPort(host.trim().toLowerCase());
  const base = baseDomain.toLowerCase();
  if (!HOST_CHARS.test(name)) throw TenancyException.malformedHost();
  if (name === base) return { kind: 'base' };
  const suffix = `.${base}`;
  if (!name.endsWith(suffix)) throw TenancyException.malformedHost();
  const label = name.slice(0, -suffix.length);
  if (!isTenantSlug(label)) throw TenancyException.malformedHost();
  return { kind: 'tenant', tenant: label };
}

function stripPort(host: string): string {
  const colon = host.lastIndexOf(':');
  if (colon === -1) return host;
  const port = host.slice(colon + 1);
  if (!/^\d{1,5}$/.test(port)) throw TenancyException.malformedHost();
  return host.slice(0, colon);
}
