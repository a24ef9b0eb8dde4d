import { describe, expect, it } from '@jest/globals';
import { parseHost, parseTenantSlug, TenancyErrorCode } from '#polystore/tenancy';

describe('tenancy - Host -> tenant', () => {
  it.each([
    ['acme.example.com', 'acme'],
    ['acme.example.com:3000', 'acme'],
    ['ACME.Example.COM', 'acme'],
    ['a1-b2.example.com', 'a1-b2'],
    [`a${'b'.repeat(39)}.example.com`, `a${'b'.repeat(39)}`],
  ])('%s names tenant %s', (host, tenant) => {
    expect(parseHost(host, 'example.com')).toEqual({ kind: 'tenant', tenant });
  });

  it('the base domain itself is the admin host', () => {
    expect(parseHost('example.com:80', 'example.com')).toEqual({ kind: 'base' });
  });

  it.each([
    undefined,
    '',
    'example.org',
    'acme.example.org',
    'x.acme.example.com',
    'acme.example.com.evil.org',
    '1acme.example.com',
    'a.example.com',
    `a${'b'.repeat(40)}.example.com`,
    'ac_me.example.com',
    "ac'me.example.com",
    'acme .example.com',
    'acme.example.com:',
    'acme.example.com:80:80',
    'acme.example.com:abc',
    '[::1]',
    'acme.example.com/..',
    'x'.repeat(300),
  ])('%p is refused with MALFORMED_HOST', (host) => {
    expect(() => parseHost(host, 'example.com')).toThrow(
      expect.objectContaining({ code: TenancyErrorCode.MALFORMED_HOST }),
    );
  });

  it('slugs follow ^[a-z][a-z0-9-]{1,39}$', () => {
    expect(parseTenantSlug('acme-2')).toBe('acme-2');
    for (const bad of ['A', 'a', '-a', '9a', 'a_b', 'a'.repeat(41), 'a b', 42, null]) {
      expect(() => parseTenantSlug(bad)).toThrow(expect.objectContaining({ code: TenancyErrorCode.INVALID_TENANT }));
    }
  });
});
