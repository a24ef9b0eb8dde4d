import { randomBytes } from 'node:crypto';

/** A short random lowercase token, unique enough to isolate one test suite's tenants and subjects. */
export function uniqueToken(length = 8): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += alphabet[byte % alphabet.length];
  return out;
}

/** A fresh tenant slug for a test: starts with `t`, then a random token, then `suffix`. */
export function testTenantSlug(suffix = ''): string {
  return `t${uniqueToken(7)}${suffix ? `-${suffix}` : ''}`;
}
