import { describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import {
  AeadError,
  constantTimeEqual,
  deriveKey,
  hmacSha256,
  open,
  randomKey,
  seal,
  secretKeyOf,
} from '#polystore/platform';

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

  it('a key Buffer gets its KeyObject once, and a new one when its bytes change (never the old key for new bytes)', () => {
    const raw = randomKey();
    expect(secretKeyOf(raw)).toBe(secretKeyOf(raw));
    const sealed = seal(raw, 'before', 'ctx');
    const before = Buffer.from(raw);
    raw.fill(7);
    expect(secretKeyOf(raw).export().equals(Buffer.alloc(32, 7))).toBe(true);
    expect(() => open(raw, sealed, 'ctx')).toThrow(AeadError);
    expect(open(before, sealed, 'ctx').toString()).toBe('before');
    expect(open(raw, seal(raw, 'after', 'ctx'), 'ctx').toString()).toBe('after');
    expect(hmacSha256(raw, 'x').equals(createHmac('sha256', Buffer.alloc(32, 7)).update('x').digest())).toBe(true);
  });
});
