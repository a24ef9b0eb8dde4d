import { newRequestContext, type RequestContext } from './request-context.js';
import { isTenantSlug } from './tenant-slug.js';

/** Header names under which a {@link RequestContext} travels on NATS messages. */
export const ContextHeader = {
  TENANT: 'Ps-Tenant',
  CORRELATION_ID: 'Ps-Correlation-Id',
  DEADLINE: 'Ps-Deadline',
  ACTOR: 'Ps-Actor',
} as const;

/** A minimal read/write view of message headers (NATS `MsgHdrs` satisfies it). */
export interface HeaderBag {
  get(name: string): string;
  set(name: string, value: string): void;
}

const SAFE_TOKEN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Writes `context` into `headers`. */
export function writeContextHeaders(context: RequestContext, headers: HeaderBag): void {
  headers.set(ContextHeader.CORRELATION_ID, context.correlationId);
  headers.set(ContextHeader.DEADLINE, String(context.deadline));
  if (context.tenant) headers.set(ContextHeader.TENANT, context.tenant);
  if (context.actor) headers.set(ContextHeader.ACTOR, context.actor);
}

/** What a receiver learns from a message's headers. */
export interface ReceivedContext {
  readonly context: RequestContext;
  /** True when a tenant header was present but not a valid slug: the message must be refused. */
  readonly invalidTenant: boolean;
}

/**
 * Rebuilds the sender's context from `headers`. Values are validated, never trusted: a bad
 * tenant is reported (not silently dropped), a bad correlation id is replaced, a missing or
 * absurd deadline falls back to the default budget.
 */
export function readContextHeaders(headers: HeaderBag | undefined): ReceivedContext {
  const tenant = headers?.get(ContextHeader.TENANT) ?? '';
  const correlationId = headers?.get(ContextHeader.CORRELATION_ID) ?? '';
  const actor = headers?.get(ContextHeader.ACTOR) ?? '';
  const deadline = Number(headers?.get(ContextHeader.DEADLINE) ?? '');
  const now = Date.now();
  const context = newRequestContext({
    tenant: isTenantSlug(tenant) ? tenant : undefined,
    correlationId: SAFE_TOKEN.test(correlationId) ? correlationId : undefined,
    actor: SAFE_TOKEN.test(actor) ? actor : undefined,
    deadline: Number.isFinite(deadline) && deadline > 0 && deadline < now + 10 * 60_000 ? deadline : undefined,
  });
  return { context, invalidTenant: tenant !== '' && !isTenantSlug(tenant) };
}
