import { CatalogEvents } from './contracts/catalog.events.js';
import { ReliableContracts } from './contracts/reliable.contract.js';
import { SecureContracts } from './contracts/secure.contract.js';

/**
 * Every NATS pattern of Polystore, by service. This object is the one place a pattern is
 * spelled; handlers (`@Handles`) and callers (`MessageClient.request`) both refer to it.
 */
export const Contracts = {
  secure: SecureContracts,
  reliable: ReliableContracts,
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
} as const;
