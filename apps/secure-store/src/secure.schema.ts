import type { StoreSchema } from '#polystore/data-router';
import { AuditEntryEntity, AuditHeadEntity } from './audit/audit-entry.entity.js';
import { IdempotencyKeyEntity } from '#polystore/idempotency';
import { SecureDeviceCredentialEntity } from './devices/device-credential.entity.js';
import { TenantKeyEntity } from './crypto/tenant-key.entity.js';
import { CustomerKeyEntity } from './customers/customer-key.entity.js';
import { CustomerEntity } from './customers/customer.entity.js';
import { SecureInit1764201700000 } from './migrations/1764201700000-secure-init.js';
import { SecureSaga1764204100000 } from './migrations/1764204100000-secure-saga.js';
import { SecureIdempotency1764207100000 } from './migrations/1764207100000-secure-idempotency.js';
import { SecureKekVersion1764207600000 } from './migrations/1764207600000-secure-kek-version.js';
import { SecureCustomerKeys1764208600000 } from './migrations/1764208600000-secure-customer-keys.js';
import { SecureAuditAppender1764209300000 } from './migrations/1764209300000-secure-audit-appender.js';
import { SecureCredentialLedger1764209400000 } from './migrations/1764209400000-secure-credential-ledger.js';
import { SecureStepKeys1764209500000 } from './migrations/1764209500000-secure-step-keys.js';

/** Entities and migrations of every tenant's secure database. */
export const SECURE_SCHEMA: StoreSchema = {
  entities: [
    TenantKeyEntity,
    CustomerEntity,
    CustomerKeyEntity,
    AuditEntryEntity,
    AuditHeadEntity,
    SecureDeviceCredentialEntity,
    IdempotencyKeyEntity,
  ],
  migrations: [
    SecureInit1764201700000,
    SecureSaga1764204100000,
    SecureIdempotency1764207100000,
    SecureKekVersion1764207600000,
    SecureCustomerKeys1764208600000,
    SecureAuditAppender1764209300000,
    SecureCredentialLedger1764209400000,
    SecureStepKeys1764209500000,
  ],
  migrationsTableName: 'secure_migrations',
};
