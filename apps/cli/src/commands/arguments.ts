import { InvalidArgumentError } from 'commander';
import { isTenantSlug, TENANT_SLUG_PATTERN } from '#polystore/tenancy';

/** A mistake in the command line: printed with the usage hint, exit code 2. */
export class UsageError extends Error {}

/** A TCP port, 1-65535. */
export function portArgument(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65_535) throw new InvalidArgumentError('must be a port (1-65535)');
  return n;
}

/** An address to listen on: an IP address or localhost. */
export function hostArgument(value: string): string {
  if (!/^[0-9a-fA-F:.]+$|^localhost$/.test(value)) throw new InvalidArgumentError('must be an IP address or localhost');
  return value;
}

/** A tenant slug given as an argument. */
export function slugArgument(value: string): string {
  if (!isTenantSlug(value))
    throw new UsageError(`slug: "${value}" is not a tenant slug (${TENANT_SLUG_PATTERN.source})`);
  return value;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

/** `a,b,c` as validated tenant slugs. */
export function parseTenantList(value: string): string[] {
  const slugs = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (slugs.length === 0) throw new UsageError('--tenants: give "all" or at least one slug');
  const bad = slugs.find((slug) => !isTenantSlug(slug));
  if (bad !== undefined)
    throw new UsageError(`--tenants: "${bad}" is not a tenant slug (${TENANT_SLUG_PATTERN.source})`);
  return slugs;
}
