import type { z } from 'zod';

/** Whether a message acts on one tenant's data (the tenant travels in its headers) or on the system. */
export type ContractScope = 'tenant' | 'system';

/**
 * A request/reply pattern on NATS: its subject, its scope and the schemas of both sides.
 * Stores validate every request against `request`; the gateway is typed by both.
 */
export interface Contract<Q extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  /** Subject without the deployment prefix, `<service>.<resource>.<verb>`. */
  readonly pattern: string;
  /** The service (queue group) that answers. */
  readonly service: string;
  readonly scope: ContractScope;
  readonly request: Q;
  readonly response: R;
  /** Time budget when the caller has none tighter (defaults to the client's, 5 s). */
  readonly timeoutMs?: number;
  /**
   * True when running the request again changes nothing a caller could tell (reads, health).
   * Every other request is a command: before it runs, its signature is claimed in the service's
   * replay memory shared by all replicas (`openReplayMemory`), so a copy delivered to another
   * replica is refused too. A read's copy is caught by each replica's own memory, and its
   * answer can only go to the original caller's inbox (the signature covers it).
   */
  readonly readOnly?: boolean;
}

/** What a caller sends for contract `C`. */
export type RequestOf<C extends Contract> = z.input<C['request']>;
/** What a handler receives for contract `C` (after validation and defaults). */
export type ParsedRequestOf<C extends Contract> = z.output<C['request']>;
/** What a handler returns and a caller gets for contract `C`. */
export type ResponseOf<C extends Contract> = z.output<C['response']>;

/** Declares a request/reply contract (see {@link Contract}). */
export function defineContract<Q extends z.ZodType, R extends z.ZodType>(spec: Contract<Q, R>): Contract<Q, R> {
  return Object.freeze(spec);
}

/** A fire-and-forget broadcast: every subscribed process receives it (no queue group). */
export interface EventContract<P extends z.ZodType = z.ZodType> {
  readonly subject: string;
  readonly payload: P;
}

/** Declares an event (see {@link EventContract}). */
export function defineEvent<P extends z.ZodType>(spec: EventContract<P>): EventContract<P> {
  return Object.freeze(spec);
}

/** Joins the deployment prefix and a pattern into a NATS subject. */
export function subjectFor(prefix: string, pattern: string): string {
  return prefix ? `${prefix}.${pattern}` : pattern;
}
