export { IdempotencyErrorCode, IdempotencyException } from './idempotency.exception.js';
export { IdempotencyKeyEntity, NO_EXPIRY, type KeyState } from './idempotency-key.entity.js';
export { createIdempotencyTable, dropIdempotencyTable, keyStatesUp, keyStatesDown } from './idempotency.schema.js';
export { KeyLedger, type KeyClaim, type OnceOutcome } from './key-ledger.js';
export { requestFingerprint } from './request-fingerprint.util.js';
export { IdempotentExecutor, type IdempotentExecutorOptions, type IdempotentOutcome } from './idempotent-executor.js';
