import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ConfigError, MasterKeyring, loadConfig, masterKeyringVar } from '#polystore/platform';
import { z } from 'zod';

const schema = z.object({ MASTER_KEY: masterKeyringVar().optional() });
const OLD = Buffer.alloc(32, 1);
const NEW = Buffer.alloc(32, 2);
const b64 = (key: Buffer) => key.toString('base64');

/** The ConfigError message `MASTER_KEY=value` gives (fails the test when the value is accepted). */
function problemOf(value: string): string {
  try {
    loadConfig(schema, { MASTER_KEY: value });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('accepted');
}

describe('MasterKeyring - the MASTER_KEY format', () => {
  it('master key - a bare base64 key is version 1, current, and the derivation root', () => {
    const ring = loadConfig(schema, { MASTER_KEY: ` ${b64(OLD)} ` }).MASTER_KEY!;
    expect(ring.current).toEqual({ version: 1, key: OLD });
    expect(ring.versions).toEqual([1]);
    expect(ring.get(1)).toEqual(OLD);
    expect(ring.get(2)).toBeUndefined();
    expect(ring.derivationRoot).toEqual(OLD);
  });

  it('master key - in a versioned list the first is current and the lowest version is the derivation root', () => {
    const ring = MasterKeyring.parse(`v2:${b64(NEW)}, v1:${b64(OLD)}`);
    expect(ring.current).toEqual({ version: 2, key: NEW });
    expect(ring.versions).toEqual([2, 1]);
    expect(ring.get(1)).toEqual(OLD);
    expect(ring.get(2)).toEqual(NEW);
    expect(ring.get(3)).toBeUndefined();
    // Adding v2 in front of a bare key changes nothing derived from the master key.
    expect(ring.derivationRoot).toEqual(MasterKeyring.parse(b64(OLD)).derivationRoot);

    const listedLowFirst = MasterKeyring.parse(`v7:${b64(OLD)},v12:${b64(NEW)}`);
    expect(listedLowFirst.current.version).toBe(7);
    expect(MasterKeyring.parse(`v12:${b64(NEW)},v7:${b64(OLD)}`).derivationRoot).toEqual(OLD);
    expect(MasterKeyring.parse(`v3:${b64(NEW)}`).current).toEqual({ version: 3, key: NEW });
  });

  it('master key - MASTER_KEY_FILE holding a versioned list is read like the variable', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ps-master-')), 'master-key');
    writeFileSync(file, `v2:${b64(NEW)},v1:${b64(OLD)}\n`);
    const ring = loadConfig(schema, { MASTER_KEY_FILE: file }).MASTER_KEY!;
    expect(ring.current.version).toBe(2);
    expect(ring.get(1)).toEqual(OLD);
  });

  it('master key - bad values are errors naming MASTER_KEY and what is wrong, never the key material', () => {
    const secret = 'c2VjcmV0LW1hdGVyaWFsLXNlY3JldC1tYXRlcmlhbA=='; // 30 bytes: a wrong length
    const cases: Array<[string, RegExp]> = [
      [`v2:${b64(NEW)},v2:${b64(OLD)}`, /MASTER_KEY: v2 is listed twice/],
      [`v1:${b64(OLD)},v01:${b64(NEW)}`, /MASTER_KEY: entry 2: the version must be an integer from 1 to 32767/],
      [`v0:${b64(OLD)}`, /MASTER_KEY: entry 1: the version must be an integer from 1 to 32767/],
      [`v40000:${b64(OLD)}`, /MASTER_KEY: entry 1: the version must be an integer/],
      [`v-1:${b64(OLD)}`, /MASTER_KEY: entry 1: the version must be an integer/],
      [`v2:${secret},v1:${b64(OLD)}`, /MASTER_KEY: v2: the key must be 32 bytes encoded as base64/],
      [`v2:${b64(NEW).replace('A', '*')}`, /MASTER_KEY: v2: the key must be 32 bytes encoded as base64/],
      [`v2:${b64(NEW)},${b64(OLD)}`, /MASTER_KEY: entry 2 must be v<version>:<base64 key>/],
      [`v2:${b64(NEW)},`, /MASTER_KEY: entry 2 must be v<version>:<base64 key>/],
      [`secret:${secret}`, /MASTER_KEY: entry 1 must be v<version>:<base64 key>/],
      [secret, /MASTER_KEY: must be 32 bytes encoded as base64, or versioned keys v<n>:<base64>/],
      ['garbage!', /MASTER_KEY: must be 32 bytes encoded as base64/],
      ['', /MASTER_KEY: must be 32 bytes encoded as base64/],
    ];
    for (const [value, expected] of cases) {
      const message = problemOf(value);
      expect(message).toMatch(expected);
      for (const material of [secret, b64(OLD), b64(NEW), 'secret', 'garbage']) expect(message).not.toContain(material);
    }
  });
});
