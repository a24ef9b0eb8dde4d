import { TENANT_SLUG_PATTERN, TENANT_SLUG_RULE } from '#polystore/platform';
import { z } from 'zod';

/** A tenant slug on the wire. */
export const tenantSlugSchema = z.string().regex(TENANT_SLUG_PATTERN, TENANT_SLUG_RULE);

/**
 * One database server a store uses, as the store's `DataSourceRouter` counts it (`stats()`): the
 * figures are the router's own, summed over the server's shared pools and own pools. Used by the
 * console's servers page.
 */
export const storePoolSchema = z.object({
  /** `host:port` (a cluster: its nodes, comma-separated); never a user, password or option. */
  server: z.string(),
  dialect: z.string(),
  /** Databases of the shared pools open on the server (shared placements). */
  sharedDatabases: z.array(z.string()),
  /** DataSources with a pool of their own (`dedicated`, `database` on PostgreSQL) open on the server. */
  ownPools: z.number().int().min(0),
  /** Connections serving a unit of work now (shared pools' busy connections plus own pools' work in flight). */
  inUse: z.number().int().min(0),
  /** Connections of the budget reserved but not in use. */
  idle: z.number().int().min(0),
  /** Units of work waiting for a connection now (shared pools and the server's budget). */
  waiting: z.number().int().min(0),
  /** Connections the store may hold on the server. */
  connectionBudget: z.number().int().min(0),
  /** What the server accepts from ordinary roles (`max_connections`), when probed; else null. */
  serverConnections: z.number().int().min(0).nullable(),
  /** Units of work served since the store started. */
  units: z.number().int().min(0),
  /** Units refused `STORE_BUSY` since start (waited too long or too many waiting). */
  busyRejections: z.number().int().min(0),
  /** Own pools closed to make room since start. */
  evictions: z.number().int().min(0),
});
export type StorePoolView = z.infer<typeof storePoolSchema>;

/** The edge store's telemetry stream against its limits (null: no limit). */
export const telemetryStreamSchema = z.object({
  messages: z.number().int().min(0),
  bytes: z.number().int().min(0),
  maxMessages: z.number().int().min(0).nullable(),
  maxBytes: z.number().int().min(0).nullable(),
  /** Bytes over `maxBytes` (0 without a limit), the edge store's `polystore_telemetry_stream_fill_ratio`. */
  fillRatio: z.number().min(0),
  /** When the edge store last read these figures from the broker, ISO. */
  checkedAt: z.iso.datetime(),
});
export type TelemetryStreamView = z.infer<typeof telemetryStreamSchema>;

/**
 * Health ping answered by every store instance. `pools` (each database server the instance has
 * connected to) and `stream` (the edge store's telemetry stream, when it runs one) are optional:
 * stores before them answer without, and callers that only check liveness ignore them.
 */
/**
 * A placement whose circuit breaker in the answering store instance is not closed: `open` (its
 * database failed; units fail fast until a trial), `half-open` (a trial unit is let through),
 * `isolated` (held open by hand). The console's placement health.
 */
export const placementCircuitSchema = z.object({
  /** The router's server id (`postgres://host:port`, no credentials), as the catalog's placement shows it. */
  server: z.string(),
  database: z.string(),
  schema: z.string().nullable(),
  circuit: z.enum(['open', 'half-open', 'isolated']),
});
export type PlacementCircuitView = z.infer<typeof placementCircuitSchema>;

/** At most this many circuits travel in a health answer (the first found). */
export const MAX_HEALTH_CIRCUITS = 1_000;

export const healthResponseSchema = z.object({
  status: z.literal('ok'),
  instance: z.string(),
  pools: z.array(storePoolSchema).optional(),
  stream: telemetryStreamSchema.optional(),
  /** Readings the edge store instance committed since it started (`polystore_ingest_readings_total`, every path): the console's ingest rate. */
  readingsStored: z.number().int().min(0).optional(),
  /** The placements whose circuit is not closed in this instance (bounded: {@link MAX_HEALTH_CIRCUITS}). */
  circuits: z.array(placementCircuitSchema).max(MAX_HEALTH_CIRCUITS).optional(),
});
export type HealthView = z.infer<typeof healthResponseSchema>;

/** Answer of a store's tenant provisioning: what database it created or found, which migrations ran. */
export const provisionResponseSchema = z.object({
  database: z.string(),
  created: z.boolean(),
  migrations: z.array(z.string()),
});

export const dropResponseSchema = z.object({ dropped: z.boolean() });

export const emptySchema = z.object({}).strict();

/** Idempotency key of a mutation: HTTP `Idempotency-Key`, saga `sagaId:step`, job `job:...`. */
export const idempotencyKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,200}$/, 'must be 1-200 characters of [A-Za-z0-9._:-]');

/** Request of a store's `idempotency.purge-expired`: how many expired keys to delete at most. */
export const purgeExpiredRequestSchema = z.object({ limit: z.number().int().min(1).max(10_000) }).strict();

/** Answer of `idempotency.purge-expired`: how many keys past their retention were deleted. */
export const purgeExpiredResponseSchema = z.object({ purged: z.number().int().min(0) });

/**
 * Request of a store's `tenants.usage`: besides the bytes, the exact row counts of these tables of
 * the store's own schema (names checked against the store's entities, never spliced as given).
 */
export const tenantUsageRequestSchema = z
  .object({
    count: z
      .array(z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be a table name'))
      .max(8)
      .default([]),
    /** Also name the newest migration recorded in the tenant's schema or database (the console). */
    migration: z.boolean().optional(),
  })
  .strict();

/**
 * Answer of `tenants.usage`: the bytes the tenant's data takes in this store, as its engine
 * reports them (null where the engine gives no figure), and the requested row counts.
 */
export const tenantUsageResponseSchema = z.object({
  bytes: z.number().int().min(0).nullable(),
  counts: z.record(z.string(), z.number().int().min(0)),
  /** When asked: the newest migration recorded in the store's migrations table there (null: none, or MongoDB). */
  migration: z.string().nullable().optional(),
});
export type TenantUsageView = z.infer<typeof tenantUsageResponseSchema>;
