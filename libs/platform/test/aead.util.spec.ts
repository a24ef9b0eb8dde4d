import { describe, expect, it } from '@jest/globals';
import { AeadError, constantTimeEqual, deriveKey, open, randomKey, seal } from '#polystore/platform';

describe('platform - AES-256-GCM sealing', () => {
  const key = randomKey();

  it('opens what it sealed, and two seals of one value differ (fresh IV)', () => {
    const a = seal(key, 'ada@example.com', 'tenant:customers:1:email');
    const b = seal(key, 'ada@example.com', 'tenant:customers:1:email');
    expect(a.equals(b)).toBe(false);
    expect(open(key, a, 'tenant:customers:1:email').toString()).toBe('ada@example.com');
  });

  it('refuses a tampered ciphertext, another context (AAD) or another key', () => {
    const sealed = seal(key, 'secret', 'ctx');
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 1]! ^= 1;
    expect(() => open(key, flipped, 'ctx')).toThrow(AeadError);
    expect(() => open(key, sealed, 'other-row')).toThrow(AeadError);
    expect(() => open(randomKey(), sealed, 'ctx')).toThrow(AeadError);
    expect(() => open(key, sealed.subarray(0, 10), 'ctx')).toThrow(AeadError);
  });

  it('derives distinct keys per purpose, deterministically', () => {
    expect(deriveKey(key, 'a').equals(deriveKey(key, 'a'))).toBe(true);
    expect(deriveKey(key, 'a').equals(deriveKey(key, 'b'))).toBe(false);
  });

  it('compares secrets in constant time, including length', () => {
    expect(constantTimeEqual('token-123', 'token-123')).toBe(true);
    expect(constantTimeEqual('token-123', 'token-124')).toBe(false);
    expect(constantTimeEqual('token', 'token-123')).toBe(false);
  });
});
