import type { PlacementKeys } from './placement.js';

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
  readonly poolSize: number;
  readonly applicationName: string;
}
