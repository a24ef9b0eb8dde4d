import type { MessageClient } from '#polystore/messaging';
import type { TenantSlug } from '#polystore/tenancy';

/** What a job's work for one tenant gets besides the tenant (which is also the current context's). */
export interface TenantJobContext {
  /** Aborted when the tenant's time is up or the process shuts down: stop early. */
  readonly signal: AbortSignal;
  /** The run's reference time (the scheduled slot, or the moment a manual run started). */
  readonly now: Date;
  readonly messages: MessageClient;
}

/**
 * A job that runs for every active tenant, on a schedule (once across replicas) or on demand
 * (`npm run cli -- jobs run <name>`). `run` is called inside a request context for the tenant
 * (NATS calls carry it and the per-tenant deadline) and must be idempotent: a crashed run is
 * resumed, and a tenant whose work failed is tried again by the resumed run.
 */
export interface TenantJob<R = unknown> {
  /** Stable name, `[a-z][a-z0-9-]*` (the lease and the checkpoint are keyed by it). */
  readonly name: string;
  readonly description: string;
  /** Scheduled every this many milliseconds (slots are aligned to the epoch). */
  readonly intervalMs: number;
  /** Time one tenant's work may take before it is reported failed (`TIMEOUT`). */
  readonly tenantTimeoutMs: number;
  /** Tenants worked on at once. */
  readonly concurrency: number;
  run(tenant: TenantSlug, context: TenantJobContext): Promise<R>;
}
