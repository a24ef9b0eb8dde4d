import { SagaLog1764204000000 } from './1764204000000-saga-log.js';
import { SagaActor1764204400000 } from './1764204400000-saga-actor.js';
import { SagaUnknownOutcome1764207000000 } from './1764207000000-saga-unknown-outcome.js';
import { SagaActions1764208000000 } from './1764208000000-saga-actions.js';
import { SagaTenantId1764208700000 } from './1764208700000-saga-tenant-id.js';

/** The saga log's migrations, in order: add them to the system database's migrations. */
export const SAGA_MIGRATIONS = [
  SagaLog1764204000000,
  SagaActor1764204400000,
  SagaUnknownOutcome1764207000000,
  SagaActions1764208000000,
  SagaTenantId1764208700000,
] as const;
