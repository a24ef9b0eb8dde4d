import type { Registry } from 'prom-client';
import type { PlacementKeys } from './placement.js';
import type { StoreName } from './store-name.js';

/** Injection token of the system database's DataSource. */
export const SYSTEM_DATA_SOURCE = Symbol('SYSTEM_DATA_SOURCE');

/** Injection token of {@link CatalogOptions}. */
export const CATALOG_OPTIONS = Symbol('CATALOG_OPTIONS');

/** Settings of the catalog lib. */
export interface CatalogOptions {
  readonly systemDbUrl: string;
  /** Seal and open server passwords in placements: the master key, or the store keys held. */
  readonly keys: PlacementKeys;
  /** How long a found tenant, placement or API key is trusted without asking the database. */
  readonly cacheTtlMs: number;
  /** How long "not found" is trusted (kept short; a creation event clears it anyway). */
  readonly negativeCacheTtlMs: number;
  /**
   * How long past its TTL a found tenant, placement or API key is still served while reloading it
   * fails (the system database briefly down); default 300,000 (5 minutes), 0 never. A change
   * event still drops it at once.
   */
  readonly staleWindowMs?: number;
  /** Where `polystore_catalog_lookups_total{kind}` and `polystore_catalog_stale_served_total{kind}` go. */
  readonly metrics?: Registry;
  readonly poolSize: number;
  readonly applicationName: string;
  /**
   * A store process: its name and key. With `systemDbUrl` naming the store's own catalog login
   * (`ps_<store>_catalog`), it waits for the catalog instead of migrating it (see
   * `openSystemDatabase`).
   */
  readonly store?: { readonly name: StoreName; readonly key: Buffer };
}
