import { z } from 'zod';
import { defineContract } from '../contract.js';
import {
  dropResponseSchema,
  emptySchema,
  healthResponseSchema,
  idempotencyKeySchema,
  provisionResponseSchema,
  purgeExpiredRequestSchema,
  purgeExpiredResponseSchema,
  tenantUsageRequestSchema,
  tenantUsageResponseSchema,
} from './common.schema.js';

export { idempotencyKeySchema };

const service = 'reliable-store';

export const DEVICE_STATUSES = ['pending', 'active', 'offline', 'disabled'] as const;
export const deviceStatusSchema = z.enum(DEVICE_STATUSES);
export type DeviceStatus = z.infer<typeof deviceStatusSchema>;

export const deviceViewSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  model: z.string(),
  status: deviceStatusSchema,
  customerId: z.uuid().nullable(),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type DeviceView = z.infer<typeof deviceViewSchema>;

export const usageRecordSchema = z.object({
  deviceId: z.uuid(),
  /** Start of the hour (UTC) the amount belongs to. */
  periodStart: z.iso.datetime(),
  metric: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 characters of [A-Za-z0-9_.:-]'),
  amount: z.number().finite(),
});
export type UsageRecordView = z.infer<typeof usageRecordSchema>;

const deviceName = z.string().trim().min(1).max(200);
const deviceModel = z.string().trim().min(1).max(100);

/** Contracts answered by `apps/reliable-store` (device registry and usage ledger). */
export const ReliableContracts = {
  health: defineContract({
    pattern: 'reliable.health',
    readOnly: true,
    service,
    scope: 'system',
    request: emptySchema,
    response: healthResponseSchema,
    timeoutMs: 1_000,
  }),
  tenants: {
    provision: defineContract({
      pattern: 'reliable.tenants.provision',
      service,
      scope: 'tenant',
      request: emptySchema,
      response: provisionResponseSchema,
      timeoutMs: 60_000,
    }),
    drop: defineContract({
      pattern: 'reliable.tenants.drop',
      service,
      scope: 'tenant',
      request: emptySchema,
      response: dropResponseSchema,
      timeoutMs: 60_000,
    }),
    /** What the tenant's data takes in this store (bytes) and, on request, row counts: quotas. */
    usage: defineContract({
      pattern: 'reliable.tenants.usage',
      readOnly: true,
      service,
      scope: 'tenant',
      request: tenantUsageRequestSchema,
      response: tenantUsageResponseSchema,
      timeoutMs: 10_000,
    }),
  },
  devices: {
    /** Registers a device; idempotent by key. `id` lets a saga choose it; `status` defaults to active. */
    create: defineContract({
      pattern: 'reliable.devices.create',
      service,
      scope: 'tenant',
      request: z
        .object({
          idempotencyKey: idempotencyKeySchema,
          id: z.uuid().optional(),
          name: deviceName,
          model: deviceModel,
          customerId: z.uuid().nullish(),
          status: z.enum(['pending', 'active']).default('active'),
        })
        .strict(),
      response: deviceViewSchema,
    }),
    get: defineContract({
      pattern: 'reliable.devices.get',
      readOnly: true,
      service,
      scope: 'tenant',
      request: z.object({ id: z.uuid() }).strict(),
      response: deviceViewSchema,
    }),
    /** Keyset-paged list, newest first, optionally filtered by status. */
    list: defineContract({
      pattern: 'reliable.devices.list',
      readOnly: true,
      service,
      scope: 'tenant',
      request: z
        .object({
          status: deviceStatusSchema.optional(),
          limit: z.number().int().min(1).max(200).default(50),
          cursor: z.string().max(200).optional().describe('nextCursor of the previous page'),
        })
        .strict(),
      response: z.object({ items: z.array(deviceViewSchema), nextCursor: z.string().nullable() }),
    }),
    /** Changes a device's status; with `expectedVersion`, refuses (409) if the device changed since. */
    updateStatus: defineContract({
      pattern: 'reliable.devices.update-status',
      service,
      scope: 'tenant',
      request: z
        .object({
          idempotencyKey: idempotencyKeySchema,
          id: z.uuid(),
          status: deviceStatusSchema,
          expectedVersion: z.number().int().min(1).optional(),
        })
        .strict(),
      response: deviceViewSchema,
    }),
    delete: defineContract({
      pattern: 'reliable.devices.delete',
      service,
      scope: 'tenant',
      request: z.object({ idempotencyKey: idempotencyKeySchema, id: z.uuid() }).strict(),
      response: z.object({ id: z.uuid(), deleted: z.literal(true) }),
    }),
  },
  usage: {
    /** Sets the amount of each (device, hour, metric); idempotent by key and by natural key. */
    upsert: defineContract({
      pattern: 'reliable.usage.upsert',
      service,
      scope: 'tenant',
      request: z
        .object({ idempotencyKey: idempotencyKeySchema, records: z.array(usageRecordSchema).min(1).max(1_000) })
        .strict(),
      response: z.object({ upserted: z.number().int() }),
    }),
    query: defineContract({
      pattern: 'reliable.usage.query',
      readOnly: true,
      service,
      scope: 'tenant',
      request: z
        .object({
          from: z.iso.datetime(),
          to: z.iso.datetime(),
          deviceId: z.uuid().optional(),
          metric: z.string().max(64).optional(),
          limit: z.number().int().min(1).max(10_000).default(1_000),
        })
        .strict(),
      response: z.object({ items: z.array(usageRecordSchema), truncated: z.boolean() }),
    }),
  },
  idempotency: {
    /** Deletes up to `limit` idempotency keys past their retention (`IDEMPOTENCY_TTL_MS`): the idempotency-purge job. */
    purgeExpired: defineContract({
      pattern: 'reliable.idempotency.purge-expired',
      service,
      scope: 'tenant',
      request: purgeExpiredRequestSchema,
      response: purgeExpiredResponseSchema,
    }),
  },
} as const;

/** Events the reliable store relays from its outbox to JetStream. */
export const DEVICE_EVENT_TYPES = ['device.created', 'device.status_changed', 'device.deleted'] as const;
export const deviceEventSchema = z.object({
  eventId: z.uuid(),
  type: z.enum(DEVICE_EVENT_TYPES),
  tenant: z.string(),
  deviceId: z.uuid(),
  status: deviceStatusSchema.nullable(),
  version: z.number().int().nullable(),
  occurredAt: z.string(),
});
export type DeviceEvent = z.infer<typeof deviceEventSchema>;
