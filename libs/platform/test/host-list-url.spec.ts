import { describe, expect, it } from '@jest/globals';
import { HostListUrl } from '#polystore/platform';

describe('HostListUrl - URLs whose authority lists several hosts', () => {
  it('platform - a single host is a plain URL, and prints back unchanged', () => {
    const parsed = HostListUrl.parse('mysql://app:pw@db:3306/?sslmode=require');
    expect(parsed.hosts).toBeUndefined();
    expect(parsed.url.hostname).toBe('db');
    expect(parsed.toString()).toBe('mysql://app:pw@db:3306/?sslmode=require');
  });

  it('platform - a host list: the URL of the first host, the list, and the list put back after a change', () => {
    const parsed = HostListUrl.parse('mysql://app:p%40ss@h1:3307,h2:3308,[::1]:3309/?sslmode=verify-ca');
    expect(parsed.hosts).toEqual(['h1:3307', 'h2:3308', '[::1]:3309']);
    expect([parsed.url.hostname, parsed.url.port, decodeURIComponent(parsed.url.password)]).toEqual([
      'h1',
      '3307',
      'p@ss',
    ]);
    parsed.url.password = '';
    expect(parsed.toString()).toBe('mysql://app@h1:3307,h2:3308,[::1]:3309/?sslmode=verify-ca');
  });

  it('platform - an empty host in the list, or no URL at all, is refused like new URL refuses', () => {
    expect(() => HostListUrl.parse('mysql://h1:3306,,h2:3306')).toThrow(/Invalid URL/);
    expect(() => HostListUrl.parse('not a url')).toThrow(/Invalid URL/);
  });
});
