export { IdempotencyErrorCode, IdempotencyException } from './idempotency.exception.js';
export { IdempotencyKeyEntity } from './idempotency-key.entity.js';
export { createIdempotencyTable, dropIdempotencyTable } from './idempotency.schema.js';
export { requestFingerprint } from './request-fingerprint.util.js';
export { IdempotentExecutor, type IdempotentExecutorOptions, type IdempotentOutcome } from './idempotent-executor.js';
