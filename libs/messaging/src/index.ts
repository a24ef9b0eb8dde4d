export {
  defineContract,
  defineEvent,
  subjectFor,
  type Contract,
  type ContractScope,
  type EventContract,
  type ParsedRequestOf,
  type RequestOf,
  type ResponseOf,
} from './contract.js';
export { Contracts, Events, Streams } from './contracts.js';
export {
  customerViewSchema,
  type AuditCheckpointOutcome,
  type AuditEntryView,
  type AuditVerdictView,
  type AuditVerifyMode,
  type CustomerView,
} from './contracts/secure.contract.js';
export {
  DEVICE_EVENT_TYPES,
  DEVICE_STATUSES,
  deviceEventSchema,
  type DeviceEvent,
  type DeviceStatus,
  type DeviceView,
  type UsageRecordView,
} from './contracts/reliable.contract.js';
export {
  MAX_HOURLY_WINDOW_MS,
  MAX_TELEMETRY_DEVICES,
  TELEMETRY_BUCKETS,
  deviceCredentialsSchema,
  tenantIngestResponseSchema,
  type DeviceCredentials,
  type TenantIngestView,
  type HourlyReadings,
  type LastSeen,
  type TelemetryBucket,
  type TelemetryBucketRow,
  type TelemetryPoint,
} from './contracts/edge.contract.js';
export { MessagingErrorCode, MessagingException } from './messaging.exception.js';
export { RemoteError, fromWireError, toWireError, describeZodError, type WireError } from './wire-error.js';
export { MessageClient, type MessageClientOptions } from './message-client.js';
export {
  ContextSigner,
  ContextVerifier,
  DEFAULT_INBOX_PREFIX,
  SignatureHeader,
  contextPublicKeyOf,
  derivedStoreContextKey,
  newStoreContextKey,
  type ContextVerifierOptions,
  type StoreContextKey,
} from './context-signature.js';
export { connectNats, inboxPrefixOf, natsTlsOption, type NatsSettings, type NatsTls } from './nats-connection.js';
export {
  openReplayMemory,
  replayStreamName,
  replaySubject,
  type ReplayMemory,
  type ReplayMemoryConfig,
} from './replay-memory.js';
export { InProcessNats, isInProcessUrl } from './in-process-nats.js';
export { openEventStream, type EventStream, type EventStreamConfig } from './event-stream.js';
export { PolystoreNatsServer, type PolystoreNatsServerOptions } from './polystore-nats.server.js';
export { RpcErrorFilter } from './rpc-error.filter.js';
export { ContractPipe, Handles } from './contract.pipe.js';
export { MessagingModule, NATS_CONNECTION, type MessagingModuleOptions } from './messaging.module.js';
export { stepOutcomeSchema, type StepOutcome } from './contracts/saga-participant.contract.js';
export {
  MAX_HEALTH_CIRCUITS,
  healthResponseSchema,
  idempotencyKeySchema,
  tenantUsageResponseSchema,
  type HealthView,
  type PlacementCircuitView,
  type StorePoolView,
  type TelemetryStreamView,
  type TenantUsageView,
} from './contracts/common.schema.js';
export {
  BUS_SERVICES,
  busAuthenticator,
  busInboxPrefix,
  busPermissions,
  busPublicKeyOf,
  busServerConfig,
  newBusSeed,
  type BusPermissions,
  type BusServerOptions,
  type BusService,
} from './bus-auth.js';
export {
  METRIC_NAME_PATTERN,
  READING_LIMITS,
  deviceReadingSchema,
  httpErrorBodySchema,
  ingestAcceptedSchema,
  ingestRequestSchema,
  openApiSchemaOf,
  type DeviceReading,
  type HttpErrorBody,
  type IngestAccepted,
} from './contracts/http.schema.js';
export {
  API_KEY_SCOPES,
  GatewayRequestBodies,
  STORE_NAMES,
  auditListQuerySchema,
  auditVerifyQuerySchema,
  createApiKeyBodySchema,
  createCustomerBodySchema,
  createTenantBodySchema,
  httpInstantSchema,
  listDevicesQuerySchema,
  putQuotasBodySchema,
  registerDeviceBodySchema,
  restoreTenantBodySchema,
  rotateApiKeyBodySchema,
  sagaListQuerySchema,
  searchCustomersBodySchema,
  telemetryQuerySchema,
  usageQuerySchema,
  type CreateApiKeyBody,
  type CreateCustomerBody,
  type CreateTenantBody,
  type GatewayRequestBodyName,
  type ListDevicesQuery,
  type PutQuotasBody,
  type RegisterDeviceBody,
  type RotateApiKeyBody,
  type TelemetryQuery,
} from './contracts/gateway.schema.js';
