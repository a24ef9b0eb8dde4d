import { Logger } from '@nestjs/common';
import { ServerNats } from '@nestjs/microservices';
import type { Msg, NatsConnection, Subscription, SubscriptionOptions } from '@nats-io/transport-node';
import { ContextHeader, RequestContextStore, TenancyException, readContextHeaders } from '#polystore/tenancy';
import { endSpan, extractTraceContext, SpanKind, startSpan, withSpan, type Span } from '#polystore/tracing';
import { busAuthenticator } from './bus-auth.js';
import { subjectFor } from './contract.js';
import { SignatureHeader, type ContextVerifier } from './context-signature.js';
import { isInProcessUrl } from './in-process-nats.js';
import { MessagingException } from './messaging.exception.js';
import { TRACER_SCOPE, messagingAttributes } from './message-tracing.js';
import { connectNats, inboxPrefixOf, natsTlsOption, type NatsTls } from './nats-connection.js';
import { openReplayMemory, type ReplayMemory } from './replay-memory.js';
import { toWireError } from './wire-error.js';

export interface PolystoreNatsServerOptions {
  /** NATS servers, or `inproc://<name>` for the in-process transport. */
  readonly url: string;
  /** Queue group: replicas of one service share its messages. */
  readonly queue: string;
  readonly subjectPrefix: string;
  /** Client name shown by the NATS server. */
  readonly name: string;
  /** Checks every message's signed context before anything else runs. */
  readonly verifier: Pick<ContextVerifier, 'check' | 'replayWindowMs'>;
  /** The service's NKey seed on an authenticated bus (NATS_NKEY_SEED); none on an open one. */
  readonly nkeySeed?: string;
  /** TLS to the NATS servers (NATS_TLS_CA); see `NatsSettings`. */
  readonly tls?: NatsTls;
  /** Longest wait for in-flight handlers at shutdown. */
  readonly drainTimeoutMs?: number;
}

type Publish = (packet: { response?: unknown; err?: unknown; isDisposed?: boolean }) => unknown;

/**
 * Nest's NATS transport with what Polystore's stores need on top:
 * - subjects carry the deployment prefix (patterns in handlers stay unprefixed);
 * - every message's signed context is checked first ({@link ContextVerifier}): an unsigned,
 *   forged, expired or replayed message is answered with a `CONTEXT_*` error and runs nothing;
 * - a command (a handler whose contract is not `readOnly`) runs only once its signature is
 *   claimed in the service's {@link ReplayMemory}, shared by every replica: a copy delivered to
 *   another replica gets `CONTEXT_REPLAYED`, and while the memory is out of reach commands get
 *   `SERVICE_UNAVAILABLE` (retryable: a new request has a new signature) instead of running;
 * - every message runs inside the sender's {@link RequestContext} (tenant, correlation id,
 *   deadline), restored from its headers before guards, pipes and the handler run;
 * - a message whose tenant header is invalid, or whose deadline has passed, is answered with
 *   an error and never reaches its handler;
 * - at shutdown, subscriptions stop first, then in-flight handlers finish (bounded) before the
 *   connection closes;
 * - `url: 'inproc://<name>'` serves on the in-process transport (see `connectNats`).
 */
export class PolystoreNatsServer extends ServerNats {
  private inFlight = 0;
  private readonly idleWaiters = new Set<() => void>();
  private readonly subscriptionsByUs: Subscription[] = [];
  private readonly refusals = new Logger(PolystoreNatsServer.name);
  /** One debug line per reply (subject, outcome): a store's access log, joined to its trace by `trace_id`. */
  private readonly replies = new Logger('nats');
  /** The SERVER span of each message being handled, ended when its reply leaves. */
  private readonly spans = new WeakMap<Msg, Span>();
  private replayMemory?: ReplayMemory;

  constructor(private readonly settings: PolystoreNatsServerOptions) {
    super({
      servers: settings.url.split(','),
      name: settings.name,
      queue: settings.queue,
      // Graceful shutdown is done here (stop subscriptions, wait for in-flight handlers), not by a fixed grace period.
      gracefulShutdown: false,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      waitOnFirstConnect: true,
      noAsyncTraces: true,
      // JetStream's answers to the replay memory's claims come here, where only this service may listen.
      inboxPrefix: inboxPrefixOf(settings.name),
      ...(settings.nkeySeed ? { authenticator: busAuthenticator(settings.nkeySeed) } : {}),
      ...natsTlsOption(settings.url, settings.tls),
    });
  }

  /**
   * The in-process transport through {@link connectNats}; real NATS through Nest's own connect,
   * with the options given to `super()` above, so nothing changes for `nats://`.
   */
  override async createNatsClient(): Promise<NatsConnection> {
    const nc = isInProcessUrl(this.settings.url)
      ? await connectNats({ url: this.settings.url, name: this.settings.name })
      : ((await super.createNatsClient()) as NatsConnection);
    this.replayMemory = openReplayMemory(nc, {
      service: this.settings.queue,
      subjectPrefix: this.settings.subjectPrefix,
      windowMs: this.settings.verifier.replayWindowMs,
    });
    return nc;
  }

  override bindEvents(client: NatsConnection): void {
    const prefix = this.settings.subjectPrefix;
    // Nest's bindEvents only calls `subscribe`; hand it a view that prefixes subjects.
    const prefixing = {
      subscribe: (subject: string, options?: SubscriptionOptions): Subscription => {
        const subscription = client.subscribe(subjectFor(prefix, subject), options);
        this.subscriptionsByUs.push(subscription);
        return subscription;
      },
    } as unknown as NatsConnection;
    super.bindEvents(prefixing);
  }

  override async handleMessage(channel: string, message: Msg): Promise<unknown> {
    // In flight from here: a command waiting for its claim holds a graceful shutdown back too.
    this.inFlight++;
    const refusal =
      this.settings.verifier.check(message.subject, message.headers, message.data, Date.now(), message.reply) ??
      (await this.claim(channel, message));
    if (refusal) {
      // A security event: the subject and the code, never the message's headers or payload.
      this.refusals.warn(`refused a message on ${message.subject}: ${refusal.code}`);
      return this.refuse(message, refusal);
    }
    const { context, invalidTenant } = readContextHeaders(message.headers);
    if (invalidTenant) return this.refuse(message, TenancyException.invalidTenant());
    if (context.deadline <= Date.now()) return this.refuse(message, MessagingException.deadlineExceeded(channel));
    // Continues the sender's trace (its `traceparent` header), once the message is known genuine.
    const parent = extractTraceContext(message.headers);
    const span = startSpan(TRACER_SCOPE, `process ${channel}`, {
      kind: SpanKind.SERVER,
      attributes: messagingAttributes('process', message.subject, channel),
      parent,
    });
    if (span) this.spans.set(message, span);
    try {
      const handled: unknown = await withSpan(
        span,
        () => RequestContextStore.run(context, () => super.handleMessage(channel, message)),
        parent,
      );
      if (!message.reply) this.endSpanOf(message);
      return handled;
    } catch (error) {
      this.settle();
      this.endSpanOf(message, error);
      throw error;
    }
  }

  /**
   * Claims a verified command's signature in the replay memory (read-only handlers and unknown
   * patterns pass: a read's answer can only reach its signer, and nothing runs for an unknown
   * pattern). Undefined when the command may run.
   */
  private async claim(channel: string, message: Msg): Promise<MessagingException | undefined> {
    // `channel` is a key of the handlers (bindEvents subscribes by key): no pattern parse per message.
    const handler = this.messageHandlers.get(channel);
    if (!handler || handler.extras?.readOnly === true) return undefined;
    const signature = message.headers?.get(SignatureHeader.SIGNATURE) ?? '';
    // About as long as the sender waits: 1-5 s (a command past its deadline is refused right after).
    const left = Number(message.headers?.get(ContextHeader.DEADLINE)) - Date.now();
    try {
      if (await this.replayMemory!.claim(signature, Math.min(Math.max(left, 1_000), 5_000))) return undefined;
      return MessagingException.contextReplayed(message.subject);
    } catch (error) {
      this.refusals.warn(
        `replay memory unreachable, refused a command on ${message.subject}: ${(error as Error).message}`,
      );
      return MessagingException.serviceUnavailable(channel, 'replay memory');
    }
  }

  override getPublisher(message: Msg, id: string, ctx: never): Publish {
    const publish = super.getPublisher(message, id, ctx) as Publish;
    return (packet) => {
      try {
        return publish(packet);
      } finally {
        if (packet.isDisposed || packet.err !== undefined) {
          this.settle();
          this.endSpanOf(message, packet.err);
          this.replies.debug({ subject: message.subject, outcome: outcomeOf(packet.err) }, 'replied');
        }
      }
    };
  }

  private endSpanOf(message: Msg, error?: unknown): void {
    const span = this.spans.get(message);
    if (!span) return;
    this.spans.delete(message);
    endSpan(span, error);
  }

  /** Stops taking messages, waits for in-flight handlers (bounded by `drainTimeoutMs`), then disconnects. */
  override async close(): Promise<void> {
    for (const subscription of this.subscriptionsByUs.splice(0)) subscription.unsubscribe();
    await this.drainInFlight();
    await super.close();
  }

  private async drainInFlight(): Promise<void> {
    if (this.inFlight === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.settings.drainTimeoutMs ?? 10_000);
      const waiter = (): void => done();
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.idleWaiters.add(waiter);
    });
    // Let the last replies leave the socket.
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** Number of messages being handled right now. */
  get activeMessages(): number {
    return this.inFlight;
  }

  private settle(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (this.inFlight === 0) {
      for (const waiter of this.idleWaiters) waiter();
      this.idleWaiters.clear();
    }
  }

  /** Answers `message` with `error` (nothing ran); it is no longer in flight. */
  private refuse(message: Msg, error: Error): void {
    this.settle();
    if (!message.reply) return;
    let id: unknown;
    try {
      id = message.json<{ id?: unknown }>().id;
    } catch {
      id = undefined;
    }
    message.respond(JSON.stringify({ id, err: toWireError(error), isDisposed: true }));
  }
}

/** `ok`, or the code of the error a reply carries. */
function outcomeOf(error: unknown): string {
  if (error === undefined || error === null) return 'ok';
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'error';
}
