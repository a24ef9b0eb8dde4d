import { TENANT_SLUG_PATTERN, TENANT_SLUG_RULE } from '#polystore/platform';
import { z } from 'zod';

/** A tenant slug on the wire. */
export const tenantSlugSchema = z.string().regex(TENANT_SLUG_PATTERN, TENANT_SLUG_RULE);

/** Health ping answered by every store instance. */
export const healthResponseSchema = z.object({
  status: z.literal('ok'),
  instance: z.string(),
});

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
  })
  .strict();

/**
 * Answer of `tenants.usage`: the bytes the tenant's data takes in this store, as its engine
 * reports them (null where the engine gives no figure), and the requested row counts.
 */
export const tenantUsageResponseSchema = z.object({
  bytes: z.number().int().min(0).nullable(),
  counts: z.record(z.string(), z.number().int().min(0)),
});
export type TenantUsageView = z.infer<typeof tenantUsageResponseSchema>;
