import { Logger } from '@nestjs/common';
import { errors, headers as natsHeaders, nuid, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { newRequestContext, RequestContextStore, TenancyException, writeContextHeaders } from '#polystore/tenancy';
import { endSpan, extractTraceContext, injectTraceContext, SpanKind, startSpan, traced } from '#polystore/tracing';
import { Histogram, type Registry } from 'prom-client';
import type { z } from 'zod';
import { subjectFor, type Contract, type EventContract, type RequestOf, type ResponseOf } from './contract.js';
import type { ContextSigner } from './context-signature.js';
import { MessagingException } from './messaging.exception.js';
import { TRACER_SCOPE, messagingAttributes } from './message-tracing.js';
import { fromWireError } from './wire-error.js';

export interface MessageClientOptions {
  /** Deployment prefix of every subject (isolates stacks sharing one NATS). */
  readonly subjectPrefix: string;
  /** Budget of a request whose caller has no tighter deadline. */
  readonly defaultTimeoutMs: number;
  readonly metrics?: Registry;
  /** Signs the context of every request (stores refuse unsigned ones). */
  readonly signer?: ContextSigner;
  /**
   * The connection's inbox prefix (`inboxPrefixOf` its name; default `_INBOX`): signed with each
   * request, so its answer can go nowhere else.
   */
  readonly inboxPrefix?: string;
}

interface ReplyPacket {
  readonly response?: unknown;
  readonly err?: unknown;
}

/**
 * Typed request/reply and events over NATS, speaking the NestJS microservices wire format
 * (`{pattern, data, id}` in, `{response | err, isDisposed}` out) so stores are plain Nest handlers.
 *
 * Guarantees: the request carries the caller's tenant, correlation id and deadline in headers,
 * signed with the client's {@link ContextSigner} when it has one;
 * a tenant-scoped contract cannot be sent without a tenant; the wait never exceeds the deadline;
 * failures come back as coded errors: `SERVICE_UNAVAILABLE` at once when no instance listens,
 * `DEADLINE_EXCEEDED` when nobody answered in time (outcome unknown), the remote code otherwise.
 */
export class MessageClient {
  private readonly logger = new Logger(MessageClient.name);
  private readonly latency?: Histogram<'pattern' | 'outcome'>;

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: MessageClientOptions,
  ) {
    if (options.metrics) {
      this.latency = new Histogram({
        name: 'polystore_rpc_client_seconds',
        help: 'NATS request/reply latency seen by the caller',
        labelNames: ['pattern', 'outcome'],
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers: [options.metrics],
      });
    }
  }

  /** Sends `payload` to the service behind `contract` and returns its typed answer. */
  async request<C extends Contract>(
    contract: C,
    payload: RequestOf<C>,
    options: { timeoutMs?: number } = {},
  ): Promise<ResponseOf<C>> {
    const context = RequestContextStore.current() ?? newRequestContext();
    if (contract.scope === 'tenant' && !context.tenant) throw TenancyException.noTenantContext();
    const now = Date.now();
    const budget = Math.min(
      options.timeoutMs ?? contract.timeoutMs ?? this.options.defaultTimeoutMs,
      context.deadline - now,
    );
    if (budget <= 0) throw MessagingException.deadlineExceeded(contract.pattern);

    const headers = natsHeaders();
    writeContextHeaders({ ...context, deadline: now + budget }, headers);
    const subject = subjectFor(this.options.subjectPrefix, contract.pattern);
    const body = Buffer.from(JSON.stringify({ pattern: contract.pattern, data: payload, id: nuid.next() }));
    // The trace context travels unsigned: it decides nothing, and a store verifies the rest as before.
    const span = startSpan(TRACER_SCOPE, `send ${contract.pattern}`, {
      kind: SpanKind.CLIENT,
      attributes: messagingAttributes('send', subject, contract.pattern),
    });
    injectTraceContext(span, headers);
    this.options.signer?.sign(subject, contract.service, headers, body, now, this.options.inboxPrefix);
    const stopTimer = this.latency?.startTimer({ pattern: contract.pattern });
    let outcome = 'ok';
    let failure: unknown;
    try {
      const reply = await this.nc.request(subject, body, { timeout: budget, headers }).catch((error: unknown) => {
        throw this.transportError(error, contract);
      });
      const packet = this.decode(reply.data, contract);
      if (packet.err !== undefined && packet.err !== null) throw fromWireError(packet.err, contract.pattern);
      return packet.response as ResponseOf<C>;
    } catch (error) {
      outcome = (error as { code?: string }).code ?? 'error';
      failure = error;
      throw error;
    } finally {
      stopTimer?.({ outcome });
      endSpan(span, failure);
    }
  }

  /** Publishes `event` to every subscribed process (fire-and-forget, at most once). */
  publish<P extends z.ZodType>(event: EventContract<P>, payload: z.input<P>): void {
    const subject = subjectFor(this.options.subjectPrefix, event.subject);
    const span = startSpan(TRACER_SCOPE, `publish ${event.subject}`, {
      kind: SpanKind.PRODUCER,
      attributes: messagingAttributes('publish', subject, event.subject),
    });
    if (!span) return this.nc.publish(subject, JSON.stringify(payload));
    const headers = natsHeaders();
    injectTraceContext(span, headers);
    try {
      this.nc.publish(subject, JSON.stringify(payload), { headers });
      endSpan(span);
    } catch (error) {
      endSpan(span, error);
      throw error;
    }
  }

  /**
   * Calls `handler` for every `event` published by any process (broadcast, no queue group).
   * Invalid payloads are logged and skipped; handler errors are logged, never thrown.
   */
  subscribe<P extends z.ZodType>(
    event: EventContract<P>,
    handler: (payload: z.output<P>) => void | Promise<void>,
  ): Subscription {
    return this.nc.subscribe(subjectFor(this.options.subjectPrefix, event.subject), {
      callback: (error, msg) => {
        if (error) return this.logger.warn(`subscription to ${event.subject} failed: ${error.message}`);
        const parsed = event.payload.safeParse(safeJson(msg.data));
        if (!parsed.success) return this.logger.warn(`invalid ${event.subject} event skipped`);
        const parent = extractTraceContext(msg.headers);
        const span = startSpan(TRACER_SCOPE, `process ${event.subject}`, {
          kind: SpanKind.CONSUMER,
          attributes: messagingAttributes('process', msg.subject, event.subject),
          parent,
        });
        traced(span, () => Promise.resolve(handler(parsed.data)), parent).catch((cause: unknown) =>
          this.logger.error(`handler of ${event.subject} failed: ${(cause as Error).message}`),
        );
      },
    });
  }

  private decode(data: Uint8Array, contract: Contract): ReplyPacket {
    const packet = safeJson(data);
    if (typeof packet !== 'object' || packet === null) throw MessagingException.remoteInternal(contract.pattern);
    return packet;
  }

  private transportError(error: unknown, contract: Contract): Error {
    if (error instanceof errors.TimeoutError) return MessagingException.deadlineExceeded(contract.pattern);
    if (error instanceof errors.RequestError) {
      if (error.isNoResponders()) return MessagingException.serviceUnavailable(contract.pattern, contract.service);
      if (error.cause instanceof errors.TimeoutError) return MessagingException.deadlineExceeded(contract.pattern);
    }
    if (
      error instanceof errors.ClosedConnectionError ||
      error instanceof errors.DrainingConnectionError ||
      error instanceof errors.ConnectionError
    ) {
      return MessagingException.serviceUnavailable(contract.pattern, 'nats');
    }
    return error instanceof Error ? error : new Error(String(error));
  }
}

function safeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
}
