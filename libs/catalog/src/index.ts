export { STORE_NAMES, isStoreName, type StoreName } from './store-name.js';
export { STORE_MANIFESTS, serverSchemes, storeManifests, type StoreManifest } from './store-manifest.js';
export { CatalogErrorCode, CatalogException } from './catalog.exception.js';
export type { TenantStatus } from './entities/tenant.entity.js';
export type { ApiKeyPrincipal, ApiKeyView, IssuedApiKeyView, TenantRecord } from './catalog.records.js';
export { API_KEY_SCOPES, scopesAllow, type ApiKeyScope, type RouteArea } from './api-key-scope.js';
export { ApiKeyAdminService, type ApiKeyHistoryView, type ApiKeySpec } from './api-key-admin.service.js';
export { AdminAuditService, type AdminAuditEntry, type AdminAuditRecord } from './admin-audit.service.js';
export { ConsoleSessionRevocations } from './console-session-revocations.service.js';
export {
  OperationRequests,
  type ClaimedOperation,
  type KnownServer,
  type OperationEvent,
  type OperationKind,
  type OperationOutcome,
  type OperationRecord,
  type OperationSpec,
  type OperationState,
} from './operation-requests.service.js';
export { OperationErrorCode, OperationException } from './operation.exception.js';
export { escapeLike, TenantBrowser, type TenantPage, type TenantPageQuery } from './tenant-browser.service.js';
export {
  TenantQuotaService,
  type QuotaOverrides,
  type QuotaOverridesPatch,
  type StorageMeasurement,
} from './tenant-quota.service.js';
export { retiredSlugOf, TenantRetirementService, type RetiredTenant } from './tenant-retirement.service.js';
export {
  defaultPlacementKind,
  getsPlacementLogin,
  placementNames,
  placementDatabasePrefix,
  sharedDatabaseName,
  placementLockKey,
  splitServerUrl,
  withPlacementLock,
  type Placement,
  ServerSecretBox,
  isStoreRuntimeLogin,
  storeKeyOf,
  storeRuntimeLoginName,
  type PlacementKeys,
} from './placement.js';
export { CATALOG_OPTIONS, SYSTEM_DATA_SOURCE, type CatalogOptions } from './catalog.tokens.js';
export { CatalogService } from './catalog.service.js';
export {
  CatalogAdminService,
  type PlacementLayout,
  type PlacementSpec,
  type PlacementView,
  type TenantView,
} from './catalog-admin.service.js';
export { CatalogModule, type SystemSchemaExtension } from './catalog.module.js';
export {
  CATALOG_ENTITIES,
  CATALOG_MIGRATIONS,
  ensureStoreCatalogLogins,
  openSystemDatabase,
  type SystemDatabaseOptions,
} from './system-database.js';
export {
  grantStoreCatalogLogins,
  storeCatalogLogin,
  storeCatalogLoginName,
  storeCatalogRights,
  type CatalogRight,
  type StoreCatalogLogin,
} from './store-catalog-logins.js';
