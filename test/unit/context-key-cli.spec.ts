import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { ContextSigner, ContextVerifier } from '#polystore/messaging';

const ROOT = new URL('../..', import.meta.url).pathname;
const run = promisify(execFile);

/** The built CLI with only `env` (no machine variables leaking in). */
function cli(args: string[], env: Record<string, string>) {
  return run(process.execPath, [`${ROOT}dist/apps/cli/src/main.js`, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
  });
}

describe('cli - context-key generate and public', () => {
  it('context-key - generate prints a pair that verifies, public prints the key of a seed given in a file (*_FILE)', async () => {
    const generated = await cli(['context-key', 'generate'], { NODE_ENV: 'production' });
    const lines = Object.fromEntries(
      generated.stdout
        .trim()
        .split('\n')
        .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
    );
    const seed = Buffer.from(lines['CONTEXT_SIGNING_KEY']!, 'base64');
    expect(seed).toHaveLength(32);
    const storeKeys = Object.fromEntries(lines['CONTEXT_STORE_KEYS']!.split(',').map((entry) => entry.split(/=(.*)/s)));
    expect(Object.keys(storeKeys).sort()).toEqual(['edge-store', 'reliable-store', 'secure-store']);
    const signer = new ContextSigner(seed, (service) => storeKeys[service] as string | undefined);
    expect(lines['CONTEXT_VERIFY_KEYS']).toBe(signer.publicKey);

    // Each store opens what the gateway signs for it, with its own key, and nothing meant for another.
    for (const service of ['secure-store', 'reliable-store', 'edge-store']) {
      const ownKey = lines[`${service.toUpperCase().replace('-', '_')}_CONTEXT_KEY`]!;
      const verifier = new ContextVerifier(service, [lines['CONTEXT_VERIFY_KEYS']!], [ownKey]);
      const headers = natsHeaders();
      headers.set('Ps-Deadline', String(Date.now() + 5_000));
      const body = Buffer.from(`{"to":"${service}"}`);
      signer.sign('ps.x', service, headers, body);
      expect(verifier.check('ps.x', headers, body)).toBeUndefined();
      const other = natsHeaders();
      other.set('Ps-Deadline', String(Date.now() + 5_000));
      signer.sign('ps.x', service === 'edge-store' ? 'secure-store' : 'edge-store', other, body);
      expect(verifier.check('ps.x', other, body)?.code).toBe('CONTEXT_INVALID');
    }

    const file = join(mkdtempSync(join(tmpdir(), 'ps-ctx-')), 'seed');
    writeFileSync(file, `${lines['CONTEXT_SIGNING_KEY']}\n`, { mode: 0o600 });
    const shown = await cli(['context-key', 'public'], { NODE_ENV: 'production', CONTEXT_SIGNING_KEY_FILE: file });
    expect(shown.stdout).toBe(`${signer.publicKey}\n`);
  });

  it('context-key - public without a key in production fails, naming the variable', async () => {
    await expect(cli(['context-key', 'public'], { NODE_ENV: 'production' })).rejects.toMatchObject({
      stderr: expect.stringMatching(/CONTEXT_SIGNING_KEY/),
    });
  });
});

describe('cli - store-key', () => {
  const master = Buffer.alloc(32, 21).toString('base64');

  it('store-key - prints the store key derived from MASTER_KEY, and with --runtime-password the runtime login password; an unknown store is a usage error', async () => {
    const { storeKeyOf } = await import('#polystore/catalog');
    const { runtimeLogin } = await import('#polystore/runtime');
    const edge = await cli(['store-key', 'edge'], { NODE_ENV: 'production', MASTER_KEY: master });
    expect(edge.stdout.trim()).toBe(storeKeyOf(Buffer.from(master, 'base64'), 'edge').toString('base64'));
    const password = await cli(['store-key', 'reliable', '--runtime-password'], {
      NODE_ENV: 'production',
      MASTER_KEY: master,
    });
    expect(password.stdout.trim()).toBe(
      runtimeLogin('reliable', storeKeyOf(Buffer.from(master, 'base64'), 'reliable')).password,
    );
    await expect(cli(['store-key', 'billing'], { NODE_ENV: 'production', MASTER_KEY: master })).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('store: must be one of'),
    });
  });

  it('store-key - adding a master key version in front (v2:<new>,v1:<old>) changes no store key; the lowest version derives them', async () => {
    const newer = Buffer.alloc(32, 22).toString('base64');
    const storeKey = async (masterKey: string) =>
      (await cli(['store-key', 'secure'], { NODE_ENV: 'production', MASTER_KEY: masterKey })).stdout.trim();
    const bare = await storeKey(master);
    expect(await storeKey(`v2:${newer},v1:${master}`)).toBe(bare);
    expect(await storeKey(`v1:${master},v2:${newer}`)).toBe(bare);
    expect(await storeKey(`v2:${newer}`)).not.toBe(bare);
    const refused = await cli(['store-key', 'secure'], {
      NODE_ENV: 'production',
      MASTER_KEY: `v2:${newer},v2:${master}`,
    }).catch((error: { code: number; stderr: string }) => error);
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringMatching(/MASTER_KEY: v2 is listed twice/) });
    expect(refused.stderr).not.toContain(master);
    expect(refused.stderr).not.toContain(newer);
  });
});
