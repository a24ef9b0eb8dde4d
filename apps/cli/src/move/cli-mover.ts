import { storeKeyOf } from '#polystore/catalog';
import { resolveStoreSchema } from '#polystore/data-router';
import { runtimeLogin } from '#polystore/runtime';
import type { CliContext } from '../cli-context.js';
import { STORE_SCHEMAS } from '../store-apps.js';
import { TenantMover } from './tenant-mover.js';

/**
 * The CLI's {@link TenantMover}: its catalog, the stores' own schemas, the stores' runtime
 * login derived from the master key (for moves into a schema), and `PROVISIONER_URLS` (for
 * placements whose server URL names a runtime login). `tenants move` and `ops worker`
 * both move with it.
 */
export function cliTenantMover(cli: CliContext): TenantMover {
  return new TenantMover({
    catalogAdmin: cli.catalogAdmin,
    catalog: cli.catalog,
    schemaFor: (store, dialect) => resolveStoreSchema(STORE_SCHEMAS[store], dialect),
    runtimeLogin: (store) => runtimeLogin(store, storeKeyOf(cli.masterKeyring.derivationRoot, store)),
    provisioningUrls: cli.config.PROVISIONER_URLS ?? [],
  });
}
