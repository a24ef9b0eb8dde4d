import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { TenancyException } from './tenancy.exception.js';
import type { TenantSlug } from './tenant-slug.js';

/**
 * What every unit of work carries: who it is for, how to correlate its logs, and when its
 * caller stops waiting. Set once per HTTP request (gateway) or NATS message (store).
 */
export interface RequestContext {
  /** Correlates logs across the gateway and the stores. */
  readonly correlationId: string;
  /** Epoch milliseconds after which nobody waits for the result. */
  readonly deadline: number;
  /** The tenant, when the work is tenant-scoped. */
  readonly tenant?: TenantSlug;
  /** Opaque id of the credential that started the work (an API key id), for audit. */
  readonly actor?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** Default time budget of a unit of work that does not state one. */
export const DEFAULT_DEADLINE_MS = 5_000;

/**
 * The request context in AsyncLocalStorage. There are no request-scoped providers: every
 * service is a singleton and asks this for the current tenant.
 */
export const RequestContextStore = {
  /** Runs `work` with `context` as the current context (nested runs replace it). */
  run<T>(context: RequestContext, work: () => T): T {
    return storage.run(context, work);
  },

  /** The current context, if any. */
  current(): RequestContext | undefined {
    return storage.getStore();
  },

  /** The current tenant; throws `NO_TENANT_CONTEXT` outside of tenant-scoped work. */
  requireTenant(): TenantSlug {
    const tenant = storage.getStore()?.tenant;
    if (!tenant) throw TenancyException.noTenantContext();
    return tenant;
  },

  /** Milliseconds left before the current deadline (`fallbackMs` when there is no context). */
  remainingMs(fallbackMs = DEFAULT_DEADLINE_MS): number {
    const context = storage.getStore();
    return context ? context.deadline - Date.now() : fallbackMs;
  },
};

/** A fresh context for work that does not come from a request (jobs, boot, tests). */
export function newRequestContext(fields: Partial<RequestContext> = {}): RequestContext {
  return {
    correlationId: fields.correlationId ?? randomUUID(),
    deadline: fields.deadline ?? Date.now() + DEFAULT_DEADLINE_MS,
    ...(fields.tenant ? { tenant: fields.tenant } : {}),
    ...(fields.actor ? { actor: fields.actor } : {}),
  };
}

/** Runs `work` in a fresh context for `tenant` (jobs and administrative work). */
export function runAsTenant<T>(tenant: TenantSlug, work: () => T, deadlineMs = DEFAULT_DEADLINE_MS): T {
  return storage.run(newRequestContext({ tenant, deadline: Date.now() + deadlineMs }), work);
}

/** Fields the logger adds to every line written inside a context. */
export function contextLogFields(): Record<string, unknown> {
  const context = storage.getStore();
  if (!context) return {};
  return context.tenant
    ? { correlationId: context.correlationId, tenant: context.tenant }
    : { correlationId: context.correlationId };
}
