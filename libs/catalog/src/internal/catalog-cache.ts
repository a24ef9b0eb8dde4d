import type { Logger } from '@nestjs/common';
import { Counter, type Registry } from 'prom-client';
import type { CatalogOptions } from '../catalog.tokens.js';
import { TtlCache } from './ttl-cache.js';

/** What a catalog cache holds; the `kind` label of its metrics. */
export type CatalogCacheKind = 'tenant' | 'placement' | 'api_key' | 'quota';

const DEFAULT_STALE_WINDOW_MS = 300_000;

const LOOKUPS = 'polystore_catalog_lookups_total';
const STALE = 'polystore_catalog_stale_served_total';

/** The counters of one registry, created once whatever the number of caches or services using it. */
function counters(registry: Registry): { lookups: Counter<'kind'>; stale: Counter<'kind'> } {
  const existing = (name: string) => registry.getSingleMetric(name) as Counter<'kind'> | undefined;
  return {
    lookups:
      existing(LOOKUPS) ??
      new Counter({
        name: LOOKUPS,
        help: 'Catalog lookups that reached the system database (cache misses and reloads), by kind',
        labelNames: ['kind'],
        registers: [registry],
      }),
    stale:
      existing(STALE) ??
      new Counter({
        name: STALE,
        help: 'Cached catalog entries served past their TTL because reloading them failed, by kind',
        labelNames: ['kind'],
        registers: [registry],
      }),
  };
}

/**
 * One of the catalog's read-through caches: found entries trusted for `cacheTtlMs` and served up
 * to `staleWindowMs` longer while the system database fails, "not found" for
 * `negativeCacheTtlMs` (never stale, kept apart so a flood of unknown names or keys cannot evict
 * the known ones), every load counted by kind.
 */
export function catalogCache<V>(
  kind: CatalogCacheKind,
  options: CatalogOptions,
  logger: Logger,
): TtlCache<string, V | null> {
  const metrics = options.metrics ? counters(options.metrics) : undefined;
  const staleWindowMs = options.staleWindowMs ?? DEFAULT_STALE_WINDOW_MS;
  return new TtlCache<string, V | null>({
    ttlFor: (value) => (value === null ? options.negativeCacheTtlMs : options.cacheTtlMs),
    staleFor: (value) => (value === null ? 0 : staleWindowMs),
    isMiss: (value) => value === null,
    onLoad: () => metrics?.lookups.inc({ kind }),
    onStale: (_key, error) => {
      metrics?.stale.inc({ kind });
      // The key is not logged: for API keys it is a key's hash.
      logger.warn(`system database unavailable, serving a cached ${kind} past its TTL: ${(error as Error).message}`);
    },
  });
}
