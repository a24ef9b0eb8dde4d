import type { StoreName } from '#polystore/catalog';
import type { StoreSchema, StoreSchemaByDialect } from '#polystore/data-router';
import type { StoreApp } from '#polystore/runtime';
import { EDGE_STORE_APP } from '../../edge-store/src/index.js';
import { RELIABLE_STORE_APP } from '../../reliable-store/src/index.js';
import { SECURE_STORE_APP } from '../../secure-store/src/index.js';

/** Every store app the CLI works on (`migrate`, `tenants move`): a new store is added here. */
export const STORE_APPS: readonly StoreApp[] = [SECURE_STORE_APP, RELIABLE_STORE_APP, EDGE_STORE_APP];

/** Each store's tenant schema, by store name: the migrations `migrate` applies are the stores' own. */
export const STORE_SCHEMAS = Object.fromEntries(STORE_APPS.map((app) => [app.manifest.name, app.schema])) as Record<
  StoreName,
  StoreSchema | StoreSchemaByDialect
>;
