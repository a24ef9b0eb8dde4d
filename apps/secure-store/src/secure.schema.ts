import type { StoreSchema } from '#polystore/data-router';
import { AuditEntryEntity, AuditHeadEntity } from './audit/audit-entry.entity.js';
import { TenantKeyEntity } from './crypto/tenant-key.entity.js';
import { CustomerEntity } from './customers/customer.entity.js';
import { SecureInit1764201700000 } from './migrations/1764201700000-secure-init.js';

/** Entities and migrations of every tenant's secure database. */
export const SECURE_SCHEMA: StoreSchema = {
  entities: [TenantKeyEntity, CustomerEntity, AuditEntryEntity, AuditHeadEntity],
  migrations: [SecureInit1764201700000],
  migrationsTableName: 'secure_migrations',
};
