import { z } from 'zod';

/** A tenant slug on the wire. */
export const tenantSlugSchema = z.string().regex(/^[a-z][a-z0-9-]{1,39}$/, 'must match ^[a-z][a-z0-9-]{1,39}$');

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
