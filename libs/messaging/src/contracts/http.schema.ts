import { z } from 'zod';
/**
 * Schemas of the HTTP APIs (gateway, edge store device ingest) that are not a store's NATS
 * contract: the error body every HTTP answer uses, and the device ingest API. The OpenAPI
 * document takes them from here (`z.toJSONSchema`), the HTTP error filter types its bodies with
 * them, and the end-to-end tests check answers against them.
 */

/** Body of every non-2xx HTTP answer of the gateway and of the edge store's device ingest API. */
export const httpErrorBodySchema = z.object({
  /** The HTTP status, repeated. */
  statusCode: z.number().int().min(400).max(599).describe('The HTTP status, repeated'),
  /** Stable, machine-readable: `VALIDATION_FAILED`, `CUSTOMER_NOT_FOUND`, `QUOTA_EXCEEDED`, ... */
  code: z.string().describe('Stable and machine-readable: what happened'),
  /** For humans; never secrets, PII, SQL or stack traces (`internal error` on a 500). */
  message: z.string(),
  /** The request's correlation id (also the `x-request-id` header): quote it to an operator. */
  correlationId: z.string().describe('Also the x-request-id header: quote it to an operator'),
  /** 400: every problem, each naming its field. */
  errors: z.array(z.string()).optional().describe('400: every problem, each naming its field'),
  /** The saga whose outcome this is (an operation run across stores): `GET /v1/sagas/{id}` tells more. */
  sagaId: z.string().optional(),
  /** `QUOTA_EXCEEDED`: the quota reached, its limit and the usage that reached it. */
  quota: z.object({ name: z.string(), limit: z.number(), used: z.number() }).optional(),
});
export type HttpErrorBody = z.infer<typeof httpErrorBodySchema>;

/** The bounds of device ingest (checked by the edge store's reading validator). */
export const READING_LIMITS = {
  maxReadingBytes: 64 * 1024,
  maxMetrics: 100,
  maxFutureMs: 5 * 60_000,
  maxBatch: 1_000,
} as const;

/** A metric name of a reading (and of the usage ledger). */
export const METRIC_NAME_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * One reading a device sends (HTTP `POST /ingest` and MQTT `tenants/<t>/devices/<d>/telemetry`):
 * its own sequence number, its own time, and up to 100 metrics. The edge store checks it with
 * `validateReadings` (which also bounds the size and the clock skew, and reports every reading).
 */
export const deviceReadingSchema = z
  .object({
    seq: z
      .number()
      .int()
      .min(0)
      .max(Number.MAX_SAFE_INTEGER)
      .describe("The device's sequence number: a repeat of (device, seq) is stored once"),
    ts: z
      .union([z.string().max(40).meta({ format: 'date-time' }), z.number().int().min(0)])
      .describe('Device time: ISO 8601 or epoch milliseconds, at most 5 minutes ahead'),
    metrics: z
      .record(z.string().regex(METRIC_NAME_PATTERN), z.number())
      .describe('1 to 100 metrics: name (1-64 characters of [A-Za-z0-9_.:-]) to value'),
  })
  .strict();
export type DeviceReading = z.infer<typeof deviceReadingSchema>;

/** `POST /ingest`: one reading, or 1 to 1,000 of them. */
export const ingestRequestSchema = z.union([
  deviceReadingSchema,
  z.array(deviceReadingSchema).min(1).max(READING_LIMITS.maxBatch),
]);

/** `POST /ingest` 202: how many readings are on the telemetry stream. */
export const ingestAcceptedSchema = z.object({ accepted: z.number().int().min(0) });
export type IngestAccepted = z.infer<typeof ingestAcceptedSchema>;

/** One zod schema as an OpenAPI 3.0 schema object (inline, without `$schema` or `id`). */
export function openApiSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _schema, ...rest } = z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return rest;
}
