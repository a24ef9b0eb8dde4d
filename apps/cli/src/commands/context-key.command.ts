import { randomBytes } from 'node:crypto';
import { STORE_MANIFESTS } from '#polystore/catalog';
import { contextPublicKeyOf, newStoreContextKey } from '#polystore/messaging';
import { resolveContextSigningKey } from '#polystore/runtime';
import type { Command } from 'commander';
import type { CliRuntime } from '../cli-runtime.js';

/** `SECURE_STORE_CONTEXT_KEY`: the .env name of a store service's own key. */
function envNameOf(service: string): string {
  return `${service.toUpperCase().replaceAll('-', '_')}_CONTEXT_KEY`;
}

/**
 * `polystore context-key generate|public`: the keys that sign and check request contexts on the
 * bus (libs/messaging, context-signature.ts): the gateway's Ed25519 seed, each store service's
 * X25519 key, and the public halves each side needs.
 */
export function registerContextKey(program: Command, runtime: CliRuntime): void {
  const contextKey = program
    .command('context-key')
    .description('the keys that sign (gateway, CLI) and check (stores) the request context on the bus');

  contextKey
    .command('generate')
    .description(
      'print new keys as .env lines: secrets included, so redirect them into .env or a secret store (docs/security.md)',
    )
    .action(() =>
      runtime.runOffline(() => {
        const seed = randomBytes(32);
        const stores = Object.values(STORE_MANIFESTS).map((manifest) => ({
          service: manifest.service,
          key: newStoreContextKey(),
        }));
        const lines = [
          '# the gateway and the CLI: the signing seed and every store service public key',
          `CONTEXT_SIGNING_KEY=${seed.toString('base64')}`,
          `CONTEXT_STORE_KEYS=${stores.map(({ service, key }) => `${service}=${key.publicKey}`).join(',')}`,
          '# every store: the gateway public key',
          `CONTEXT_VERIFY_KEYS=${contextPublicKeyOf(seed)}`,
          '# each store its own key, given to it as CONTEXT_STORE_KEY',
          ...stores.map(({ service, key }) => `${envNameOf(service)}=${key.privateKey}`),
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
        return Promise.resolve(0);
      }),
    );

  contextKey
    .command('public')
    .description('print the public key of CONTEXT_SIGNING_KEY (outside production: the development one)')
    .action(() =>
      runtime.runOffline((config) => {
        process.stdout.write(`${contextPublicKeyOf(resolveContextSigningKey(config))}\n`);
        return Promise.resolve(0);
      }),
    );
}
