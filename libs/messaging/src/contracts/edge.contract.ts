import { z } from 'zod';
import { defineContract } from '../contract.js';
import {
  dropResponseSchema,
  emptySchema,
  healthResponseSchema,
  provisionResponseSchema,
  tenantUsageRequestSchema,
  tenantUsageResponseSchema,
} from './common.schema.js';

const service = 'edge-store';

export const TELEMETRY_BUCKETS = ['1m', '1h'] as const;
export type TelemetryBucket = (typeof TELEMETRY_BUCKETS)[number];

export const telemetryPointSchema = z.object({
  seq: z.number().int(),
  ts: z.string(),
  receivedAt: z.string(),
  metrics: z.record(z.string(), z.number()),
});
export type TelemetryPoint = z.infer<typeof telemetryPointSchema>;

export const telemetryBucketSchema = z.object({
  start: z.string(),
  metric: z.string(),
  avg: z.number(),
  min: z.number(),
  max: z.number(),
  count: z.number().int(),
});
export type TelemetryBucketRow = z.infer<typeof telemetryBucketSchema>;

/**
 * Answer of `edge.tenants.ingest`: the tenant's readings in the telemetry stream not stored yet
 * (`messages`), when the stream received the oldest of them (`oldestAt`, null when none) and its
 * age (`lagSeconds`, 0 when none). All null when the store runs without a device broker.
 */
export const tenantIngestResponseSchema = z.object({
  messages: z.number().int().min(0).nullable(),
  oldestAt: z.iso.datetime().nullable(),
  lagSeconds: z.number().min(0).nullable(),
});
export type TenantIngestView = z.infer<typeof tenantIngestResponseSchema>;

export const deviceCredentialsSchema = z.object({
  deviceId: z.uuid(),
  /**
   * The device's credential for MQTT (password) and HTTP (bearer): a NATS user JWT that may
   * publish to the device's own subject only. Shown to the caller, never stored.
   */
  token: z.string(),
  /** When the credential expires (ISO), if it does; renew it with the edge store's `POST /credentials/renew`. */
  expiresAt: z.iso.datetime().optional(),
  mqtt: z.object({ username: z.string(), topic: z.string() }),
});
export type DeviceCredentials = z.infer<typeof deviceCredentialsSchema>;

/** Devices asked about in one call: a page of `reliable.devices.list`. */
export const MAX_TELEMETRY_DEVICES = 200;
/**
 * Longest window of `edge.telemetry.hourly`. With {@link MAX_TELEMETRY_DEVICES}, an answer has at
 * most 200 x 25 rows (about 500 KB), well within NATS' default 1 MB payload limit.
 */
export const MAX_HOURLY_WINDOW_MS = 24 * 3_600_000;

const deviceIdsSchema = z.array(z.uuid()).min(1).max(MAX_TELEMETRY_DEVICES);

export const hourlyReadingsSchema = z.object({
  deviceId: z.uuid(),
  /** Start of the hour (UTC), ISO. */
  hour: z.iso.datetime(),
  /** Readings whose device time is in that hour (and in the requested window). */
  readings: z.number().int().min(1),
});
export type HourlyReadings = z.infer<typeof hourlyReadingsSchema>;

export const lastSeenSchema = z.object({
  deviceId: z.uuid(),
  /** Device time of the device's latest reading, ISO. */
  lastAt: z.iso.datetime(),
});
export type LastSeen = z.infer<typeof lastSeenSchema>;

/** Contracts answered by `apps/edge-store` (telemetry, device credentials). */
export const EdgeContracts = {
  health: defineContract({
    pattern: 'edge.health',
    readOnly: true,
    service,
    scope: 'system',
    request: emptySchema,
    response: healthResponseSchema,
    timeoutMs: 1_000,
  }),
  tenants: {
    provision: defineContract({
      pattern: 'edge.tenants.provision',
      service,
      scope: 'tenant',
      request: emptySchema,
      response: provisionResponseSchema,
      timeoutMs: 60_000,
    }),
    drop: defineContract({
      pattern: 'edge.tenants.drop',
      service,
      scope: 'tenant',
      request: emptySchema,
      response: dropResponseSchema,
      timeoutMs: 60_000,
    }),
    /** What the tenant's data takes in this store (bytes) and, on request, row counts: quotas. */
    usage: defineContract({
      pattern: 'edge.tenants.usage',
      readOnly: true,
      service,
      scope: 'tenant',
      request: tenantUsageRequestSchema,
      response: tenantUsageResponseSchema,
      timeoutMs: 10_000,
    }),
    /**
     * The tenant's readings captured by the telemetry stream and not stored yet, and the age of
     * the oldest: its ingest lag (the console's tenant page). Null figures: no device broker.
     */
    ingest: defineContract({
      pattern: 'edge.tenants.ingest',
      readOnly: true,
      service,
      scope: 'tenant',
      request: emptySchema,
      response: tenantIngestResponseSchema,
      timeoutMs: 5_000,
    }),
    /**
     * Revokes every device credential of the tenant at the broker (live connections closed), its
     * data kept: a tenant deleted with a grace period. Idempotent.
     */
    revokeDevices: defineContract({
      pattern: 'edge.tenants.revoke-devices',
      service,
      scope: 'tenant',
      request: emptySchema,
      response: z.object({ revoked: z.number().int().nonnegative() }),
      timeoutMs: 60_000,
    }),
  },
  devices: {
    /**
     * Gives a device its credentials (MQTT and HTTP). Idempotent: provisioning an active device
     * again returns a credential of the same generation; after a revoke, of a new one.
     */
    provision: defineContract({
      pattern: 'edge.devices.provision',
      service,
      scope: 'tenant',
      request: z.object({ deviceId: z.uuid() }).strict(),
      response: deviceCredentialsSchema,
    }),
    /** Revokes a device's credentials; it is refused at once (broker and HTTP). Idempotent. */
    revoke: defineContract({
      pattern: 'edge.devices.revoke',
      service,
      scope: 'tenant',
      request: z.object({ deviceId: z.uuid() }).strict(),
      response: z.object({ deviceId: z.uuid(), revoked: z.literal(true) }),
    }),
    /**
     * A fresh credential of the device's active generation (what the gateway shows once after a
     * registration or a rotation); `DEVICE_NOT_FOUND` when the device has no active credential.
     * With `generation`: only if that is still the active one, else `CREDENTIAL_SUPERSEDED` (a
     * later rotation replaced it), so a rotation never shows another generation's token.
     */
    credential: defineContract({
      pattern: 'edge.devices.credential',
      service,
      scope: 'tenant',
      request: z.object({ deviceId: z.uuid(), generation: z.number().int().positive().optional() }).strict(),
      response: deviceCredentialsSchema,
    }),
  },
  telemetry: {
    /** Raw points (paged) or, with `bucket`, avg/min/max/count per metric per bucket. */
    query: defineContract({
      pattern: 'edge.telemetry.query',
      readOnly: true,
      service,
      scope: 'tenant',
      request: z
        .object({
          deviceId: z.uuid(),
          from: z.iso.datetime(),
          to: z.iso.datetime(),
          bucket: z
            .enum(TELEMETRY_BUCKETS)
            .optional()
            .describe('Aggregate per bucket (avg, min, max, count per metric)'),
          limit: z.number().int().min(1).max(10_000).default(1_000),
          cursor: z.string().max(200).optional().describe('nextCursor of the previous page (raw points only)'),
        })
        .strict(),
      response: z.object({
        points: z.array(telemetryPointSchema).optional(),
        buckets: z.array(telemetryBucketSchema).optional(),
        nextCursor: z.string().nullable(),
      }),
    }),
    /** Deletes every reading of the given devices (customer erasure). Idempotent. */
    erase: defineContract({
      pattern: 'edge.telemetry.erase',
      service,
      scope: 'tenant',
      request: z.object({ deviceIds: z.array(z.uuid()).max(10_000) }).strict(),
      response: z.object({ deleted: z.number().int() }),
      timeoutMs: 60_000,
    }),
    /**
     * Readings per device per hour (UTC, by device time) in `[from, to)` (at most 24 h), for the
     * given devices; one row per (device, hour) that has readings, ordered by device, hour. Read
     * by the usage rollup job.
     */
    hourly: defineContract({
      pattern: 'edge.telemetry.hourly',
      readOnly: true,
      service,
      scope: 'tenant',
      request: z.object({ deviceIds: deviceIdsSchema, from: z.iso.datetime(), to: z.iso.datetime() }).strict(),
      response: z.object({ items: z.array(hourlyReadingsSchema) }),
      timeoutMs: 30_000,
    }),
    /**
     * The device time of each given device's latest reading; devices without any reading are
     * left out. Read by the device offline job.
     */
    lastSeen: defineContract({
      pattern: 'edge.telemetry.last-seen',
      readOnly: true,
      service,
      scope: 'tenant',
      request: z.object({ deviceIds: deviceIdsSchema }).strict(),
      response: z.object({ items: z.array(lastSeenSchema) }),
      timeoutMs: 30_000,
    }),
  },
} as const;
