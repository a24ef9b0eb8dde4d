import { z } from 'zod';
import { defineEvent } from './contract.js';
import { CatalogEvents } from './contracts/catalog.events.js';
import { EdgeContracts } from './contracts/edge.contract.js';
import { ReliableContracts } from './contracts/reliable.contract.js';
import { SagaStepContracts } from './contracts/saga-participant.contract.js';
import { SecureContracts } from './contracts/secure.contract.js';

/**
 * Every NATS pattern of Polystore, by service. This object is the one place a pattern is
 * spelled; handlers (`@Handles`) and callers (`MessageClient.request`) both refer to it.
 */
export const Contracts = {
  secure: SecureContracts,
  reliable: ReliableContracts,
  edge: EdgeContracts,
  /** Saga steps, by participant store (see `contracts/saga-participant.contract.ts`). */
  sagaSteps: SagaStepContracts,
} as const;

/**
 * JetStream streams (durable, at-least-once). Subjects are prefixed like every other subject;
 * stream names are derived from the prefix so stacks sharing one NATS server stay apart.
 */
export const Streams = {
  /** Device registry events relayed from the reliable store's outbox; message id = event id. */
  reliableEvents: {
    name: (prefix: string) => `${prefix.toUpperCase().replace(/[^A-Z0-9_-]/g, '_')}_RELIABLE_EVENTS`,
    subject: (prefix: string, tenant: string, type: string) => `${prefix}.events.reliable.${tenant}.${type}`,
    wildcard: (prefix: string) => `${prefix}.events.reliable.>`,
  },
} as const;

/** Every broadcast event of Polystore. */
export const Events = {
  catalog: CatalogEvents,
  edge: {
    /** A device's credentials were revoked: every edge replica drops what it cached for it. */
    deviceRevoked: defineEvent({
      subject: 'edge.device.revoked',
      payload: z.object({ tenant: z.string(), deviceId: z.uuid() }),
    }),
  },
} as const;
