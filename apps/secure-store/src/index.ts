// Public entry of the secure store for the apps that compose others (quickstart, CLI): its
// StoreApp (manifest, tenant schema, start function) and the key maintenance the CLI runs on
// its placements (`keys rotate`, `keys upgrade-customers`). Nothing else of this app is imported
// from outside it.
import { STORE_MANIFESTS } from '#polystore/catalog';
import type { StoreApp } from '#polystore/runtime';
import { startSecureStore } from './secure-store.app.js';
import { SECURE_SCHEMA } from './secure.schema.js';

export {
  SecureKeyMaintenance,
  type CustomerKeyUpgrade,
  type TenantKeyRewrap,
} from './crypto/key-maintenance.service.js';
export { keyLabelOf } from './crypto/tenant-keyring.service.js';

/** The secure store as the composing apps see it. */
export const SECURE_STORE_APP: StoreApp = {
  manifest: STORE_MANIFESTS.secure,
  schema: SECURE_SCHEMA,
  start: startSecureStore,
};
