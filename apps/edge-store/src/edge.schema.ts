import type { StoreSchema } from '#polystore/data-router';
import { DeviceCredentialEntity } from './credentials/device-credential.entity.js';
import { EdgeInit1764203000000 } from './migrations/1764203000000-edge-init.js';
import { DeadLetterEntity, ReadingEntity } from './telemetry/reading.entity.js';

/** Entities and migrations of every tenant's edge database (PostgreSQL). */
export const EDGE_SCHEMA: StoreSchema = {
  entities: [DeviceCredentialEntity, ReadingEntity, DeadLetterEntity],
  migrations: [EdgeInit1764203000000],
  migrationsTableName: 'edge_migrations',
};
