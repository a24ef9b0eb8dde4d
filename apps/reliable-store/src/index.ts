// Public entry of the reliable store for the apps that compose others (quickstart, CLI): its
// StoreApp (manifest, tenant schema, start function). Nothing else of this app is imported from outside it.
import { STORE_MANIFESTS } from '#polystore/catalog';
import type { StoreApp } from '#polystore/runtime';
import { startReliableStore } from './reliable-store.app.js';
import { RELIABLE_SCHEMA } from './reliable.schema.js';

/** The reliable store as the composing apps see it. */
export const RELIABLE_STORE_APP: StoreApp = {
  manifest: STORE_MANIFESTS.reliable,
  schema: RELIABLE_SCHEMA,
  start: startReliableStore,
};
