import { isStoreName, STORE_NAMES, storeKeyOf } from '#polystore/catalog';
import { resolveMasterKey, runtimeLogin } from '#polystore/runtime';
import type { Command } from 'commander';
import type { CliRuntime } from '../cli-runtime.js';
import { UsageError } from './arguments.js';

/**
 * `polystore store-key <store>`: a store's own key, derived from MASTER_KEY (its lowest version,
 * so adding a version changes no store key), to give that store as
 * STORE_KEY (the reliable and edge stores hold no master key). `--runtime-password` prints the
 * password of the store's PostgreSQL runtime login instead (for `ALTER ROLE` when upgrading from a
 * version whose runtime password derived from the master key: docs/security.md).
 */
export function registerStoreKey(program: Command, runtime: CliRuntime): void {
  program
    .command('store-key <store>')
    .description(
      `print a store's key (${STORE_NAMES.join(', ')}) derived from MASTER_KEY, to give it as STORE_KEY: a secret, redirect it into a file`,
    )
    .option('--runtime-password', "print the store's PostgreSQL runtime login password instead")
    .action((store: string, flags: { runtimePassword?: boolean }) =>
      runtime.runOffline((config) => {
        if (!isStoreName(store)) throw new UsageError(`store: must be one of ${STORE_NAMES.join(', ')}`);
        const storeKey = storeKeyOf(resolveMasterKey(config).derivationRoot, store);
        process.stdout.write(
          `${flags.runtimePassword ? runtimeLogin(store, storeKey).password : storeKey.toString('base64')}\n`,
        );
        return Promise.resolve(0);
      }),
    );
}
