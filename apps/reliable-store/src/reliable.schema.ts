import type { StoreSchema } from '#polystore/data-router';
import { IdempotencyKeyEntity } from '#polystore/idempotency';
import { DeviceEntity } from './devices/device.entity.js';
import { ReliableInit1764202000000 } from './migrations/1764202000000-reliable-init.js';
import { ReliableSaga1764204200000 } from './migrations/1764204200000-reliable-saga.js';
import { ReliableOutboxOrder1764205600000 } from './migrations/1764205600000-reliable-outbox-order.js';
import { ReliableStepKeys1764209500000 } from './migrations/1764209500000-reliable-step-keys.js';
import { OutboxEventEntity } from './outbox/outbox-event.entity.js';
import { UsageRecordEntity } from './usage/usage-record.entity.js';

/** Entities and migrations of every tenant's reliable database (MariaDB/MySQL or PostgreSQL). */
export const RELIABLE_SCHEMA: StoreSchema = {
  entities: [DeviceEntity, UsageRecordEntity, OutboxEventEntity, IdempotencyKeyEntity],
  migrations: [
    ReliableInit1764202000000,
    ReliableSaga1764204200000,
    ReliableOutboxOrder1764205600000,
    ReliableStepKeys1764209500000,
  ],
  migrationsTableName: 'reliable_migrations',
};
