import { describe, expect, it } from '@jest/globals';
import { gatewayConfigSchema } from '../src/config.js';

describe('console config - validated with the gateway configuration', () => {
  it('console config - CONSOLE_ENABLED defaults to true and CONSOLE_SESSION_TTL_S to 28800; bad values are refused naming the variable', () => {
    const defaults = gatewayConfigSchema.parse({});
    expect([defaults.CONSOLE_ENABLED, defaults.CONSOLE_SESSION_TTL_S]).toEqual([true, 28_800]);
    const set = gatewayConfigSchema.parse({ CONSOLE_ENABLED: 'false', CONSOLE_SESSION_TTL_S: '600' });
    expect([set.CONSOLE_ENABLED, set.CONSOLE_SESSION_TTL_S]).toEqual([false, 600]);
    for (const [name, value] of [
      ['CONSOLE_ENABLED', 'maybe'],
      ['CONSOLE_SESSION_TTL_S', '10'],
      ['CONSOLE_SESSION_TTL_S', 'eight hours'],
      ['CONSOLE_SESSION_TTL_S', String(8 * 86_400)],
    ]) {
      const result = gatewayConfigSchema.safeParse({ [name!]: value });
      expect([name, value, result.success]).toEqual([name, value, false]);
      expect(result.error?.issues.map((issue) => issue.path.join('.'))).toEqual([name]);
    }
  });
});
