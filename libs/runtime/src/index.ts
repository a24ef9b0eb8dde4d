export {
  commonConfigShape,
  dataRouterConfigShape,
  developmentSecrets,
  requiredInProduction,
  resolveAdminToken,
  refusedInProduction,
  resolveMasterKey,
  resolveDeviceBrokerKey,
  resolveContextSigningKey,
  serverUrlListVar,
} from './common-config.js';
export { contextSignerFor, contextVerifierFor } from './context-keys.js';
export { checkServerUrlParameters, natsTlsCaVar, natsTlsOf } from './transport-tls.util.js';
export { jsonRequest, type JsonRequest } from './json-request.js';
export { correlationIdOf } from './correlation-id.js';
export { loggingModule, registerAccessLog, skipAccessLog } from './logging.module.js';
export { armCrashPoints, installShutdown, loadConfigOrExit } from './process.util.js';
export {
  startStore,
  startStoreProcess,
  type StoreDefinition,
  resolveStoreKeys,
  type StoreKeys,
  type StoreProcessOptions,
  type StoreWiring,
} from './store-process.js';
export {
  TenantDataModule,
  runtimeLogin,
  storeBatchRole,
  tenantDataLimits,
  type TenantDataLimits,
  type TenantDataOptions,
} from './tenant-data.module.js';
export { TenantDatabaseProvisioner } from './tenant-database.provisioner.js';
export { idempotencyPurgeHandler } from './idempotency-purge.handler.js';
export { measureTenantUsage } from './tenant-usage.js';
export { HttpErrorCode, HttpErrorFilter, type ErrorBody } from './http-error.filter.js';
export type { StoreApp } from './store-app.js';
export { ApiErrors, ERROR_BODY_SCHEMA, type ErrorStatus } from './openapi/api-errors.decorator.js';
export { previewOpenApiDocument } from './openapi/openapi-preview.js';
export { mergeOpenApiDocuments } from './openapi/openapi-merge.js';
