import { describe, expect, it } from '@jest/globals';
import { limitArgument } from '../src/commands/tenant-quota.command.js';

describe('cli - tenants quota arguments', () => {
  it('cli - a quota limit is a whole number, unlimited (0) or default (null); storage takes sizes', () => {
    expect(limitArgument('25')).toBe(25);
    expect(limitArgument('0')).toBe(0);
    expect(limitArgument('unlimited')).toBe(0);
    expect(limitArgument('Default')).toBeNull();
    expect(limitArgument('10GB', true)).toBe(10_000_000_000);
    expect(limitArgument('512MiB', true)).toBe(536_870_912);
    expect(limitArgument('2k', true)).toBe(2_000);
    expect(() => limitArgument('10GB')).toThrow('whole number');
    expect(() => limitArgument('-1')).toThrow('whole number');
    expect(() => limitArgument('1.5', true)).toThrow('whole number');
    expect(() => limitArgument('99999999999999999999')).toThrow('whole number');
  });
});
