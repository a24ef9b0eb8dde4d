import { PLACEMENT_KINDS } from '#polystore/data-router';
import { SagaState } from '#polystore/saga';
import { z } from 'zod';
import { tenantSlugSchema } from './common.schema.js';
import { EdgeContracts } from './edge.contract.js';
import { METRIC_NAME_PATTERN } from './http.schema.js';
import { ReliableContracts } from './reliable.contract.js';
import { SecureContracts } from './secure.contract.js';

/**
 * Request schemas of the gateway's HTTP routes: bodies and query strings. The gateway validates
 * with them (`@BodyOf`, `@QueryOf`) and its OpenAPI document shows them (`openApiSchemaOf`).
 * A route that passes its input through to a store takes the store contract's own request
 * schema, less the fields the gateway sets itself; only routes no store contract describes (the
 * admin API, API keys, quotas, sagas) have a schema of their own here.
 *
 * Query strings arrive as strings: the gateway turns a value into a number where the schema's
 * field is a number (as `Number(value)` does, so `abc` fails as not a number) before parsing.
 */

/** The storage services, each owning one database per tenant (`libs/catalog` re-exports it). */
export const STORE_NAMES = ['secure', 'reliable', 'edge'] as const;

/** What an API key may do on its tenant's routes (`libs/catalog` re-exports it and says what each allows). */
export const API_KEY_SCOPES = ['full', 'read-only', 'devices'] as const;

/**
 * An instant given over HTTP: an ISO 8601 date, or date-time with or without an offset. The
 * gateway sends it to the store as UTC (`toISOString()`), the form the contracts take.
 */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
export const httpInstantSchema = z
  .string()
  .refine((value) => ISO_INSTANT.test(value) && !Number.isNaN(Date.parse(value)), 'must be an ISO 8601 date-time')
  .meta({ format: 'date-time' });

/**
 * Absent or null, both meaning "not given" (what the gateway accepted for an optional field
 * before these schemas): the route sees undefined.
 */
function omittable<T extends z.ZodType>(schema: T) {
  return schema.nullish().transform((value) => value ?? undefined);
}

// --- Routes that pass their input through to a store: the store contract's schema. ---

/** `POST /v1/customers`: `secure.customers.create` without what the gateway adds (key, quota). */
export const createCustomerBodySchema = SecureContracts.customers.create.request
  .omit({ idempotencyKey: true, maxCustomers: true })
  .meta({ example: { name: 'Ada Lovelace', email: 'ada@example.com', phone: '+44 20 7946 0000' } });

/** `POST /v1/customers/search`: `secure.customers.search`. */
export const searchCustomersBodySchema = SecureContracts.customers.search.request;

/** `POST /v1/devices`: `reliable.devices.create`'s fields a caller gives (the saga chooses id, key and status). */
export const registerDeviceBodySchema = ReliableContracts.devices.create.request
  .pick({ name: true, model: true, customerId: true })
  .meta({ example: { name: 'Boiler room meter', model: 'EM-340' } });

/** `GET /v1/devices`: `reliable.devices.list`. */
export const listDevicesQuerySchema = ReliableContracts.devices.list.request;

/** `GET /v1/devices/{id}/telemetry`: `edge.telemetry.query`, the device from the path, instants as {@link httpInstantSchema}. */
export const telemetryQuerySchema = EdgeContracts.telemetry.query.request.omit({ deviceId: true }).extend({
  from: httpInstantSchema.describe('Inclusive start (device time)'),
  to: httpInstantSchema.describe('Exclusive end'),
});

/** `GET /v1/usage`: `reliable.usage.query` without its limit, instants as {@link httpInstantSchema}, a metric name. */
export const usageQuerySchema = ReliableContracts.usage.query.request.omit({ limit: true }).extend({
  from: httpInstantSchema.describe('Inclusive start'),
  to: httpInstantSchema.describe('Exclusive end'),
  metric: z.string().regex(METRIC_NAME_PATTERN, 'must be 1-64 characters of [A-Za-z0-9_.:-]').optional(),
});

/** `GET /v1/audit`: `secure.audit.list`. */
export const auditListQuerySchema = SecureContracts.audit.list.request;

/** `GET /v1/audit/verify`: `secure.audit.verify`. */
export const auditVerifyQuerySchema = SecureContracts.audit.verify.request;

// --- Routes of the gateway's own: no store contract describes them. ---

/** Where one store places a new tenant, when the default does not suit. */
const placementChoiceSchema = z
  .object({
    store: z.enum(STORE_NAMES),
    kind: omittable(z.enum(PLACEMENT_KINDS)).describe(
      'schema: a schema of its own in the shared database (PostgreSQL); database: a database of its own on a shared server; dedicated: a server of its own (give `server`). Default: schema on PostgreSQL, database otherwise.',
    ),
    server: omittable(z.string().min(1).max(500, 'must be a server URL of at most 500 characters')).describe(
      "The server (required for dedicated); a password in it is stored sealed. Default: the store's server.",
    ),
  })
  .strict();

/** `POST /admin/tenants`. */
export const createTenantBodySchema = z
  .object({
    slug: tenantSlugSchema,
    name: z.string().min(1).max(200),
    placements: omittable(
      z.array(placementChoiceSchema).max(STORE_NAMES.length, 'must name each store at most once'),
    ).describe('Per store; stores not named get the default.'),
  })
  .strict()
  .meta({ example: { slug: 'acme', name: 'Acme Corp' } });

/** `POST /admin/tenants/{id}/restore`. */
export const restoreTenantBodySchema = z
  .object({ slug: omittable(tenantSlugSchema).describe('Default: the slug it had (if still free)') })
  .strict();

/** `POST /v1/api-keys`, `POST /admin/tenants/{slug}/api-keys`: everything optional (`default`, scope `full`, never expires). */
export const createApiKeyBodySchema = z
  .object({
    name: omittable(
      z
        .string()
        .min(1, 'must be 1 to 100 characters')
        .max(100, 'must be 1 to 100 characters')
        .regex(/^[^\p{Cc}]+$/u, 'must not contain control characters'),
    ),
    scopes: omittable(
      z
        .array(z.enum(API_KEY_SCOPES))
        .min(1, 'must name at least one scope')
        .max(API_KEY_SCOPES.length, 'must name each scope at most once')
        .refine((scopes) => new Set(scopes).size === scopes.length, 'must name each scope at most once'),
    ).describe(
      'full: everything, API keys included; read-only: reads (GET, and searches); devices: the /v1/devices routes. Default: full.',
    ),
    // Not omittable: a null expiry is refused, as it was (never expiring is leaving it out).
    expiresAt: httpInstantSchema.optional().describe('Refused from then on; in the future. Default: never.'),
  })
  .strict()
  .meta({ example: { name: 'ci', scopes: ['read-only'] } });

/** `POST .../api-keys/{id}/rotate`: how long the old key keeps working. */
export const rotateApiKeyBodySchema = z
  .object({
    overlapSeconds: omittable(z.number().int().min(0).max(2_592_000, 'must be at most 2592000 (30 days)')).describe(
      'Default: 3600',
    ),
  })
  .strict();

const LIMIT_DOC = '0 = unlimited; null = back to the deployment default (QUOTA_*); left out = unchanged';
const quotaLimit = (what: string) =>
  z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable().optional().describe(`${what}; ${LIMIT_DOC}`);

/** `PUT /admin/tenants/{slug}/quotas`: a tenant's own limits, each optional. */
export const putQuotasBodySchema = z
  .object({
    devices: quotaLimit('Registered devices'),
    customers: quotaLimit('Customers'),
    storageBytes: quotaLimit("Bytes of the tenant's data across its stores"),
  })
  .strict()
  .meta({ example: { devices: 1000, customers: 50000, storageBytes: 10_737_418_240 } });

/** `GET /v1/sagas`, `GET /admin/sagas`. */
export const sagaListQuerySchema = z.object({ state: z.enum(Object.values(SagaState)).optional() }).strict();

/**
 * Every named request body of the gateway, by its name in the OpenAPI document
 * (`#/components/schemas/<name>`).
 */
export const GatewayRequestBodies = {
  CreateCustomerRequest: createCustomerBodySchema,
  SearchCustomersRequest: searchCustomersBodySchema,
  RegisterDeviceRequest: registerDeviceBodySchema,
  CreateTenantRequest: createTenantBodySchema,
  RestoreTenantRequest: restoreTenantBodySchema,
  CreateApiKeyRequest: createApiKeyBodySchema,
  RotateApiKeyRequest: rotateApiKeyBodySchema,
  PutQuotasRequest: putQuotasBodySchema,
} as const;
export type GatewayRequestBodyName = keyof typeof GatewayRequestBodies;

/** What a route gets from {@link createCustomerBodySchema}. */
export type CreateCustomerBody = z.output<typeof createCustomerBodySchema>;
/** What a route gets from {@link registerDeviceBodySchema}. */
export type RegisterDeviceBody = z.output<typeof registerDeviceBodySchema>;
/** What a route gets from {@link createTenantBodySchema}. */
export type CreateTenantBody = z.output<typeof createTenantBodySchema>;
/** What a route gets from {@link createApiKeyBodySchema}. */
export type CreateApiKeyBody = z.output<typeof createApiKeyBodySchema>;
/** What a route gets from {@link rotateApiKeyBodySchema}. */
export type RotateApiKeyBody = z.output<typeof rotateApiKeyBodySchema>;
/** What a route gets from {@link putQuotasBodySchema}. */
export type PutQuotasBody = z.output<typeof putQuotasBodySchema>;
/** What a route gets from {@link listDevicesQuerySchema}. */
export type ListDevicesQuery = z.output<typeof listDevicesQuerySchema>;
/** What a route gets from {@link telemetryQuerySchema}. */
export type TelemetryQuery = z.output<typeof telemetryQuerySchema>;
