import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ConfigError, base64KeyVar, loadConfig } from '#polystore/platform';
import { z } from 'zod';

const schema = z
  .object({ MASTER_KEY: base64KeyVar(32).optional(), NAME: z.string().default('x') })
  .superRefine(() => undefined);

describe('config - secrets from files (*_FILE)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ps-env-'));
  const key = Buffer.alloc(32, 3);
  const keyFile = join(dir, 'master-key');
  writeFileSync(keyFile, `${key.toString('base64')}\n`);

  it('config - X_FILE sets X from the file, through refinements, trailing newline removed', () => {
    const config = loadConfig(schema, { MASTER_KEY_FILE: keyFile });
    expect(config.MASTER_KEY).toEqual(key);
  });

  it('config - a *_FILE variable the app does not declare is left alone', () => {
    const config = loadConfig(schema, { TF_CLI_CONFIG_FILE: join(dir, 'missing'), NAME: 'y' });
    expect(config.NAME).toBe('y');
  });

  it('config - both X and X_FILE, or an unreadable file, are errors naming the variable (not the secret)', () => {
    expect(() => loadConfig(schema, { MASTER_KEY_FILE: keyFile, MASTER_KEY: key.toString('base64') })).toThrow(
      /MASTER_KEY_FILE: set either MASTER_KEY or MASTER_KEY_FILE/,
    );
    let error: unknown;
    try {
      loadConfig(schema, { MASTER_KEY_FILE: join(dir, 'missing') });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/MASTER_KEY_FILE: cannot read .*missing \(ENOENT\)/);
  });

  it('config - a file holding a bad value is reported under the variable, without its contents', () => {
    const bad = join(dir, 'bad-key');
    writeFileSync(bad, 'not-a-key-secret-material');
    expect(() => loadConfig(schema, { MASTER_KEY_FILE: bad })).toThrow(/MASTER_KEY: must be 32 bytes/);
    expect(() => loadConfig(schema, { MASTER_KEY_FILE: bad })).not.toThrow(/secret-material/);
  });
});
