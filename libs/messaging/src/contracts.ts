import { CatalogEvents } from './contracts/catalog.events.js';
import { SecureContracts } from './contracts/secure.contract.js';

/**
 * Every NATS pattern of Polystore, by service. This object is the one place a pattern is
 * spelled; handlers (`@Handles`) and callers (`MessageClient.request`) both refer to it.
 */
export const Contracts = {
  secure: SecureContracts,
} as const;

/** Every broadcast event of Polystore. */
export const Events = {
  catalog: CatalogEvents,
} as const;
