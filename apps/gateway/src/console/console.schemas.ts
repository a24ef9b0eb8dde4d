import { PLACEMENT_KINDS } from '#polystore/data-router';
import { idempotencyKeySchema } from '#polystore/messaging';
import { SagaState } from '#polystore/saga';
import { z } from 'zod';
import { GatewayException } from '../gateway.exception.js';

/** An empty form or query field is an absent one. */
const optionalText = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .optional()
    .transform((v) => (v === '' ? undefined : v));

/** `GET /console/tenants`: `q` (slug or name contains), `after` (the last slug of the page before). */
export const tenantsQuerySchema = z.object({ q: optionalText(100), after: optionalText(40) });

/** `GET /console/sagas`: `state`, one of the saga states (empty: any). */
export const sagasQuerySchema = z.object({
  state: z
    .union([z.literal(''), z.enum(Object.values(SagaState) as [SagaState, ...SagaState[]])])
    .optional()
    .transform((v) => (v === '' ? undefined : v)),
});

/** `POST /console/sagas/:id/retry|skip`: the key generated when the page rendered. */
export const sagaActionFormSchema = z.object({ idempotencyKey: idempotencyKeySchema });

/** `POST /console/tenants/:slug/audit/verify`: the walk, from the last checkpoint (default) or `full`. */
export const auditVerifyFormSchema = z.object({ mode: z.enum(['checkpoint', 'full']).default('checkpoint') });

/**
 * `POST /console/tenants/:slug/placements/:store/move`: the kind on the target, and the target
 * server's id (`dialect://host:port`, one the form offered: never credentials).
 */
export const moveFormSchema = z.object({
  targetKind: z.enum(PLACEMENT_KINDS as ['schema', 'database', 'dedicated']),
  targetServer: z
    .string()
    .max(300, 'must be at most 300 characters')
    .regex(/^[a-z]+:\/\/[A-Za-z0-9.:[\],-]+$/, 'must be a server id (dialect://host:port)'),
});

/** `value` parsed by `schema`; else `400 VALIDATION_FAILED` naming each field (`where` prefixes a bare value's name). */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where = 'value'): z.output<S> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  throw GatewayException.validation(
    parsed.error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : where} ${issue.message}`),
  );
}
