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

const service = 'secure-store';

export const customerViewSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  email: z.string(),
  phone: z.string().nullable(),
  createdAt: z.string(),
});
export type CustomerView = z.infer<typeof customerViewSchema>;

const customerIdSchema = z.object({ id: z.uuid() }).strict();

export const auditEntryViewSchema = z.object({
  seq: z.number().int(),
  at: z.string(),
  action: z.string(),
  subjectId: z.string().nullable(),
  actor: z.string().nullable(),
  correlationId: z.string(),
  outcome: z.string(),
});
export type AuditEntryView = z.infer<typeof auditEntryViewSchema>;

/** One generation of a device's credential (the credential itself is never stored). */
export const credentialGenerationSchema = z.object({
  generation: z.number().int().min(1),
  issuedAt: z.string(),
  /** When it stopped being accepted (the next rotation, or the device's deletion); null: in use. */
  revokedAt: z.string().nullable(),
});
export type CredentialGenerationView = z.infer<typeof credentialGenerationSchema>;

export const auditVerifyModeSchema = z.enum(['checkpoint', 'full']);
export type AuditVerifyMode = z.infer<typeof auditVerifyModeSchema>;

/** What `secure.audit.verify` found, and what it looked at. */
export const auditVerdictSchema = z.object({
  valid: z.boolean(),
  /** Records whose hash was recomputed. */
  checked: z.number().int(),
  firstInvalidSeq: z.number().int().nullable(),
  /**
   * `record missing`, `record modified`, `broken link`, `head mismatch`, `checkpoint mismatch`
   * (the record at the checkpoint's seq is not the one it signed), `truncated` (records the
   * checkpoint proves existed are gone: see `missing`), `checkpoint forged`; null when valid.
   */
  reason: z.string().nullable(),
  /** The walk that ran: `checkpoint` starts at the checkpoint's record; `full` at the first record. */
  mode: auditVerifyModeSchema,
  /** First and last record checked (null: none). */
  fromSeq: z.number().int().nullable(),
  toSeq: z.number().int().nullable(),
  /** The chain's head when the check started (later records are left to the next check). */
  headSeq: z.number().int().nullable(),
  /** The latest checkpoint in the catalog, and whether its signature holds. */
  checkpoint: z
    .object({
      seq: z.number().int(),
      at: z.string(),
      status: z.enum(['verified', 'forged', 'unverifiable']),
    })
    .nullable(),
  /** Records proven missing at the end of the chain (truncation), inclusive. */
  missing: z.object({ fromSeq: z.number().int(), toSeq: z.number().int() }).nullable(),
});
export type AuditVerdictView = z.infer<typeof auditVerdictSchema>;

/** What one checkpoint attempt did. */
export const auditCheckpointOutcomeSchema = z.object({
  /** `written`; `unchanged` (the head is where the checkpoint is); `refused` (the chain does not verify, or the stored checkpoint is forged: see `reason`); `skipped` (no tenant, or an empty chain). */
  outcome: z.enum(['written', 'unchanged', 'refused', 'skipped']),
  /** The checkpoint's seq after the attempt (null: none). */
  seq: z.number().int().nullable(),
  reason: z.string().nullable(),
});
export type AuditCheckpointOutcome = z.infer<typeof auditCheckpointOutcomeSchema>;

/** Contracts answered by `apps/secure-store` (PII, credentials, audit). */
export const SecureContracts = {
  health: defineContract({
    pattern: 'secure.health',
    readOnly: true,
    service,
    scope: 'system',
    request: emptySchema,
    response: healthResponseSchema,
    timeoutMs: 1_000,
  }),
  tenants: {
    /** Creates (or finds) the tenant's secure database and migrates it. Idempotent. */
    provision: defineContract({
      pattern: 'secure.tenants.provision',
      service,
      scope: 'tenant',
      request: emptySchema,
      response: provisionResponseSchema,
      timeoutMs: 60_000,
    }),
    /** Closes the tenant's DataSources and drops its secure database. Idempotent. */
    drop: defineContract({
      pattern: 'secure.tenants.drop',
      service,
      scope: 'tenant',
      request: emptySchema,
      response: dropResponseSchema,
      timeoutMs: 60_000,
    }),
    /** What the tenant's data takes in this store (bytes) and, on request, row counts: quotas. */
    usage: defineContract({
      pattern: 'secure.tenants.usage',
      readOnly: true,
      service,
      scope: 'tenant',
      request: tenantUsageRequestSchema,
      response: tenantUsageResponseSchema,
      timeoutMs: 10_000,
    }),
  },
  customers: {
    create: defineContract({
      pattern: 'secure.customers.create',
      service,
      scope: 'tenant',
      request: z
        .object({
          name: z.string().trim().min(1).max(200),
          email: z.email().max(254),
          phone: z
            .string()
            .regex(/^\+?[0-9 ().-]{3,32}$/)
            .nullish(),
          /** Set: a retry with the same key and fields gets the same customer (HTTP `Idempotency-Key`). */
          idempotencyKey: idempotencyKeySchema.optional(),
          /**
           * The tenant's customers quota (absent: none): refused with `QUOTA_EXCEEDED` when the
           * tenant already has this many, counted in the insert's transaction.
           */
          maxCustomers: z.number().int().min(1).optional(),
        })
        .strict(),
      response: customerViewSchema,
    }),
    get: defineContract({
      pattern: 'secure.customers.get',
      readOnly: true,
      service,
      scope: 'tenant',
      request: customerIdSchema,
      response: customerViewSchema,
    }),
    search: defineContract({
      pattern: 'secure.customers.search',
      readOnly: true,
      service,
      scope: 'tenant',
      request: z.object({ email: z.email().max(254) }).strict(),
      response: z.object({ items: z.array(customerViewSchema) }),
    }),
    delete: defineContract({
      pattern: 'secure.customers.delete',
      service,
      scope: 'tenant',
      request: customerIdSchema,
      response: z.object({ id: z.uuid(), deleted: z.literal(true) }),
    }),
  },
  devices: {
    /**
     * The history of a device's credential: every generation issued (at registration, by each
     * rotation), newest first, with when it stopped being accepted. `DEVICE_NOT_FOUND` when none
     * was ever recorded.
     */
    credentials: defineContract({
      pattern: 'secure.devices.credentials',
      readOnly: true,
      service,
      scope: 'tenant',
      request: z.object({ deviceId: z.uuid() }).strict(),
      response: z.object({ items: z.array(credentialGenerationSchema) }),
    }),
  },
  audit: {
    list: defineContract({
      pattern: 'secure.audit.list',
      readOnly: true,
      service,
      scope: 'tenant',
      request: z
        .object({
          afterSeq: z.number().int().min(0).default(0).describe('Return records after this sequence number'),
          limit: z.number().int().min(1).max(500).default(100),
        })
        .strict(),
      response: z.object({ items: z.array(auditEntryViewSchema), nextAfterSeq: z.number().int().nullable() }),
    }),
    /**
     * Checks the tenant's chain: by default from its latest signed checkpoint to the head
     * (`checkpoint`), or from the first record (`full`); either way page by page.
     */
    verify: defineContract({
      pattern: 'secure.audit.verify',
      readOnly: true,
      service,
      scope: 'tenant',
      request: z
        .object({
          mode: auditVerifyModeSchema
            .default('checkpoint')
            .describe(
              '`checkpoint`: from the latest signed checkpoint to the head (time bounded by what was appended since); `full`: from the first record (for auditors)',
            ),
        })
        .strict(),
      response: auditVerdictSchema,
      timeoutMs: 30_000,
    }),
    /**
     * Signs a checkpoint of the tenant's chain head if it moved since the last one, after checking
     * the records in between (the `audit-checkpoint` job, for tenants no secure store has
     * checkpointed since their last append).
     */
    checkpoint: defineContract({
      pattern: 'secure.audit.checkpoint',
      service,
      scope: 'tenant',
      request: emptySchema,
      response: auditCheckpointOutcomeSchema,
      timeoutMs: 120_000,
    }),
  },
  idempotency: {
    /** Deletes up to `limit` idempotency keys past their retention (`IDEMPOTENCY_TTL_MS`): the idempotency-purge job. */
    purgeExpired: defineContract({
      pattern: 'secure.idempotency.purge-expired',
      service,
      scope: 'tenant',
      request: purgeExpiredRequestSchema,
      response: purgeExpiredResponseSchema,
    }),
  },
} as const;
