import {
  createInbox,
  errors,
  headers as natsHeaders,
  type Msg,
  type MsgCallback,
  type MsgHdrs,
  type NatsConnection,
  type Payload,
  type PublishOptions,
  type RequestOptions,
  type Server,
  type Stats,
  type Status,
  type Subscription,
  type SubscriptionOptions,
} from '@nats-io/transport-node';

/** Most message ids one event stream remembers for its duplicate window (oldest forgotten first). */
const MAX_REMEMBERED_IDS = 100_000;
const WHITESPACE = /[ \n\r\t]/;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** True when `url` names an in-process server (`inproc://<name>`) rather than NATS servers. */
export function isInProcessUrl(url: string): boolean {
  return url.trimStart().toLowerCase().startsWith('inproc://');
}

/**
 * True when `subject` is matched by `pattern` (NATS rules: tokens split on `.`, `*` matches one
 * token, a final `>` matches one or more).
 */
export function subjectMatches(pattern: string, subject: string): boolean {
  return tokensMatch(pattern.split('.'), subject.split('.'));
}

/**
 * A NATS connection to an in-process server, for running every Polystore service in one Node
 * process without a NATS server (`NATS_URL=inproc://<name>`). `MessageClient`,
 * `PolystoreNatsServer` and the health check use it exactly like a nats.js connection.
 *
 * Guarantees, as NATS gives them: connections opened on the same `inproc://<name>` reach each
 * other, other names never; subjects with `*` and `>`; a message goes to every plain
 * subscription that matches and to one member (round robin) of each matching queue group;
 * recipients are chosen when the message is published and the message is delivered later
 * (never inside `publish`), in publish order, with its own copy of data and headers;
 * `request` fails with nats.js's errors (no responders at once, timeout, closed connection).
 *
 * Not supported: `requestMany`, `setServers`, request `reply`/`noMux`, JetStream (see
 * `openEventStream`). Nothing is persisted or leaves the process.
 */
export class InProcessNats implements NatsConnection {
  private readonly subscriptions = new Set<InProcessSubscription>();
  private readonly pendingRequests = new Set<() => void>();
  private readonly listeners = new Set<AsyncQueue<Status>>();
  private readonly counters: Stats = { inBytes: 0, inMsgs: 0, outBytes: 0, outMsgs: 0 };
  private readonly whenClosed: Promise<void | Error>;
  private resolveClosed!: () => void;
  private lastSid = 0;
  private closedFlag = false;
  private drainingFlag = false;
  private noMorePublishing = false;

  private constructor(
    private readonly server: InProcessServer,
    /** Client name (as a NATS server would show it). */
    readonly name: string,
    /** Where the replies to its requests come (nats.js's `inboxPrefix`). */
    private readonly inboxPrefix?: string,
  ) {
    this.whenClosed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
  }

  /** Opens a connection on the in-process server named by `url` (`inproc://<name>`), creating it if needed. */
  static connect(url: string, name = '', inboxPrefix?: string): Promise<InProcessNats> {
    return new Promise((resolve) => {
      const connection = new InProcessNats(attachServer(serverName(url)), name, inboxPrefix);
      connection.server.connections.add(connection);
      resolve(connection);
    });
  }

  closed(): Promise<void | Error> {
    return this.whenClosed;
  }

  /** Closes at once: subscriptions stop, pending requests fail, status iterators end. */
  close(): Promise<void> {
    if (this.closedFlag) return Promise.resolve();
    this.closedFlag = true;
    for (const subscription of [...this.subscriptions]) subscription.close();
    for (const fail of [...this.pendingRequests]) fail();
    for (const listener of this.listeners) {
      listener.push({ type: 'close' });
      listener.end();
    }
    this.listeners.clear();
    detachServer(this.server, this);
    this.resolveClosed();
    return Promise.resolve();
  }

  publish(subject: string, payload?: Payload, options?: PublishOptions): void {
    this.check(subject, false, true);
    if (options?.reply) this.check(options.reply, false, true);
    this.send(subject, toBytes(payload), options?.headers, options?.reply);
  }

  publishMessage(msg: Msg): void {
    this.publish(msg.subject, msg.data, { reply: msg.reply, headers: msg.headers });
  }

  respondMessage(msg: Msg): boolean {
    if (!msg.reply) return false;
    this.publish(msg.reply, msg.data, { reply: msg.reply, headers: msg.headers });
    return true;
  }

  subscribe(subject: string, options: SubscriptionOptions = {}): Subscription {
    this.check(subject, true, false);
    const subscription = new InProcessSubscription(this, this.server, ++this.lastSid, subject, options);
    this.subscriptions.add(subscription);
    this.server.add(subscription);
    return subscription;
  }

  /**
   * Sends a request and resolves with the first reply. Rejects like nats.js: `RequestError`
   * whose `isNoResponders()` is true at once when nothing subscribes to `subject`,
   * `TimeoutError` after `timeout` ms, `ClosedConnectionError` on a closed connection.
   */
  request(subject: string, payload?: Payload, options: RequestOptions = { timeout: 1_000 }): Promise<Msg> {
    // A throw in the executor rejects the promise: like nats.js, request() never throws.
    return new Promise<Msg>((resolve, reject) => {
      this.check(subject, true, true);
      const data = toBytes(payload);
      const timeout = options.timeout || 1_000;
      if (timeout < 1) throw errors.InvalidArgumentError.format('timeout', 'must be greater than 0');
      if (options.noMux || options.reply) {
        throw errors.InvalidArgumentError.format(['reply', 'noMux'], 'are not supported in process');
      }
      const finish = (error: Error | null, msg?: Msg): void => {
        clearTimeout(timer);
        this.pendingRequests.delete(onClose);
        inbox.unsubscribe();
        if (error) reject(error);
        else resolve(msg!);
      };
      const onClose = (): void => finish(requestError(new errors.RequestError('connection closed')));
      const inbox = this.subscribe(createInbox(this.inboxPrefix), { max: 1, callback: finish });
      const timer = setTimeout(() => finish(new errors.TimeoutError()), timeout);
      this.pendingRequests.add(onClose);
      const responders = this.send(subject, data, options.headers, inbox.getSubject());
      if (responders === 0) finish(requestError(new errors.NoRespondersError(subject)));
    });
  }

  requestMany(): Promise<AsyncIterable<Msg>> {
    return Promise.reject(new errors.InvalidOperationError('requestMany is not supported in process'));
  }

  /** Resolves once every message published before it has been delivered. */
  flush(): Promise<void> {
    if (this.closedFlag) return Promise.reject(new errors.ClosedConnectionError());
    return new Promise((resolve) => this.server.schedule(resolve));
  }

  /** Stops subscriptions after what was already routed to them is delivered, then closes. */
  async drain(): Promise<void> {
    if (this.closedFlag) throw new errors.ClosedConnectionError();
    if (this.drainingFlag) throw new errors.DrainingConnectionError();
    this.drainingFlag = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.drain().catch(() => undefined)));
    this.noMorePublishing = true;
    await this.flush();
    await this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.closedFlag) return;
    if (this.drainingFlag) {
      await this.closed();
      return;
    }
    await this.drain();
  }

  isClosed(): boolean {
    return this.closedFlag;
  }

  isDraining(): boolean {
    return this.drainingFlag;
  }

  getServer(): string {
    return 'inproc';
  }

  /** Status events: only `error` (a subscription callback threw) and `close`; ends when the connection closes. */
  status(): AsyncIterable<Status> {
    const queue: AsyncQueue<Status> = new AsyncQueue(() => this.listeners.delete(queue));
    if (this.closedFlag) queue.end();
    else this.listeners.add(queue);
    return queue;
  }

  stats(): Stats {
    return { ...this.counters };
  }

  async rtt(): Promise<number> {
    const started = Date.now();
    await this.flush();
    return Date.now() - started;
  }

  /** Nothing to reconnect to: resolves while the connection is open. */
  reconnect(): Promise<void> {
    if (this.closedFlag) return Promise.reject(new errors.ClosedConnectionError());
    if (this.drainingFlag) return Promise.reject(new errors.DrainingConnectionError());
    return Promise.resolve();
  }

  setServers(): void {
    throw new errors.InvalidOperationError('an in-process connection has no servers');
  }

  getServers(): ReadonlyArray<Server> {
    return [];
  }

  /**
   * Publishes like {@link publish} unless `msgId` was already published on `stream` within
   * `windowMs` (JetStream's duplicate window, kept by the in-process server for all its
   * connections, at most the last 100 000 ids). Returns false for a dropped duplicate.
   */
  publishDeduplicated(
    subject: string,
    payload: Payload,
    dedupe: { readonly stream: string; readonly msgId: string; readonly windowMs: number },
  ): boolean {
    this.check(subject, false, true);
    const data = toBytes(payload);
    if (!this.server.admitMessageId(dedupe.stream, dedupe.msgId, dedupe.windowMs)) return false;
    this.send(subject, data);
    return true;
  }

  /** A reply through a received message: like nats.js, lost (not thrown) once the connection is closed. */
  respondTo(reply: string, payload: Payload | undefined, options: PublishOptions | undefined): void {
    if (this.closedFlag) return;
    this.send(reply, toBytes(payload), options?.headers);
  }

  /** @internal a subscription of this connection closed. */
  forget(subscription: InProcessSubscription): void {
    this.subscriptions.delete(subscription);
  }

  /** @internal a subscription of this connection received a message. */
  countReceived(bytes: number): void {
    this.counters.inMsgs++;
    this.counters.inBytes += bytes;
  }

  /** @internal a subscription callback threw: reported as an `error` status, as the socket loop cannot be broken. */
  reportError(error: unknown): void {
    const status: Status = { type: 'error', error: error instanceof Error ? error : new Error(String(error)) };
    for (const listener of this.listeners) listener.push(status);
  }

  private send(subject: string, data: Uint8Array, headers?: MsgHdrs, reply?: string): number {
    const recipients = this.server.route(subject);
    this.counters.outMsgs++;
    this.counters.outBytes += data.length;
    recipients.forEach((subscription, index) => {
      const msg = new InProcessMsg(
        subject,
        subscription.getID(),
        index === 0 ? data : data.slice(),
        copyHeaders(headers),
        reply || undefined,
        subscription.owner,
      );
      this.server.schedule(() => subscription.deliver(msg));
    });
    return recipients.length;
  }

  /** nats.js's checks, plus the subject syntax a NATS server enforces. */
  private check(subject: string, subscribing: boolean, publishing: boolean): void {
    if (this.closedFlag) throw new errors.ClosedConnectionError();
    if (subscribing && this.drainingFlag) throw new errors.DrainingConnectionError();
    if (publishing && this.noMorePublishing) throw new errors.DrainingConnectionError();
    if (!isValidSubject(subject, !publishing)) throw new errors.InvalidSubjectError(subject);
  }
}

/** The in-process "NATS server" of one `inproc://<name>`: routes messages among its connections. */
class InProcessServer {
  readonly connections = new Set<InProcessNats>();
  private readonly literal = new Map<string, Set<InProcessSubscription>>();
  private readonly wildcard = new Set<InProcessSubscription>();
  private readonly queueTurns = new Map<string, number>();
  private readonly messageIds = new Map<string, MessageIdWindow>();
  private deliveries: Array<() => void> = [];
  private scheduled = false;

  constructor(readonly name: string) {}

  add(subscription: InProcessSubscription): void {
    if (subscription.hasWildcard) {
      this.wildcard.add(subscription);
      return;
    }
    const subject = subscription.getSubject();
    let set = this.literal.get(subject);
    if (!set) this.literal.set(subject, (set = new Set()));
    set.add(subscription);
  }

  remove(subscription: InProcessSubscription): void {
    if (subscription.hasWildcard) {
      this.wildcard.delete(subscription);
      return;
    }
    const subject = subscription.getSubject();
    const set = this.literal.get(subject);
    if (set?.delete(subscription) && set.size === 0) this.literal.delete(subject);
  }

  /** Every plain subscription matching `subject`, plus the next member (round robin) of each matching queue group. */
  route(subject: string): InProcessSubscription[] {
    const matched = [...(this.literal.get(subject) ?? [])];
    if (this.wildcard.size > 0) {
      const tokens = subject.split('.');
      for (const subscription of this.wildcard)
        if (tokensMatch(subscription.tokens, tokens)) matched.push(subscription);
    }
    const recipients: InProcessSubscription[] = [];
    const groups = new Map<string, InProcessSubscription[]>();
    for (const subscription of matched) {
      if (subscription.queue === undefined) recipients.push(subscription);
      else if (groups.has(subscription.queue)) groups.get(subscription.queue)!.push(subscription);
      else groups.set(subscription.queue, [subscription]);
    }
    for (const [queue, members] of groups) {
      const turn = this.queueTurns.get(queue) ?? 0;
      recipients.push(members[turn % members.length]!);
      this.queueTurns.set(queue, (turn + 1) % Number.MAX_SAFE_INTEGER);
    }
    return recipients;
  }

  /**
   * Runs `delivery` on a later turn of the event loop (`setImmediate`, so a chain of messages
   * yields to I/O as a socket would), after every delivery scheduled before it.
   */
  schedule(delivery: () => void): void {
    this.deliveries.push(delivery);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.deliverPending());
  }

  admitMessageId(stream: string, msgId: string, windowMs: number): boolean {
    let window = this.messageIds.get(stream);
    if (!window) this.messageIds.set(stream, (window = new MessageIdWindow()));
    return window.admit(msgId, windowMs, Date.now());
  }

  private deliverPending(): void {
    this.scheduled = false;
    const batch = this.deliveries;
    this.deliveries = [];
    for (const delivery of batch) delivery();
  }
}

/** Message ids seen by one stream, oldest first, forgotten after the window or beyond {@link MAX_REMEMBERED_IDS}. */
class MessageIdWindow {
  private readonly seenAt = new Map<string, number>();

  /** True the first time `msgId` is offered within `windowMs`. */
  admit(msgId: string, windowMs: number, now: number): boolean {
    for (const [id, at] of this.seenAt) {
      if (now - at < windowMs) break;
      this.seenAt.delete(id);
    }
    if (this.seenAt.has(msgId)) return false;
    this.seenAt.set(msgId, now);
    if (this.seenAt.size > MAX_REMEMBERED_IDS) this.seenAt.delete(this.seenAt.keys().next().value!);
    return true;
  }
}

/** One subscription of an {@link InProcessNats}: a callback, or an async iterator when there is none. */
class InProcessSubscription implements Subscription {
  readonly closed: Promise<void | Error>;
  readonly callback: MsgCallback<Msg>;
  readonly tokens: readonly string[];
  readonly hasWildcard: boolean;
  readonly queue: string | undefined;
  private readonly iterator?: AsyncQueue<Msg>;
  private resolveClosed!: () => void;
  private max: number | undefined;
  private received = 0;
  private processed = 0;
  private done = false;
  private draining?: Promise<void>;
  private timer?: NodeJS.Timeout;

  constructor(
    readonly owner: InProcessNats,
    private readonly server: InProcessServer,
    private readonly sid: number,
    private readonly subject: string,
    options: SubscriptionOptions,
  ) {
    this.tokens = subject.split('.');
    this.hasWildcard = this.tokens.some((token) => token === '*' || token === '>');
    this.queue = options.queue || undefined;
    this.max = options.max && options.max > 0 ? options.max : undefined;
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    if (options.callback) {
      this.callback = options.callback;
    } else {
      const iterator = new AsyncQueue<Msg>(() => this.unsubscribe());
      this.iterator = iterator;
      this.callback = (error, msg) => (error ? iterator.end(error) : iterator.push(msg));
    }
    if (options.timeout) this.timer = setTimeout(() => this.expire(), options.timeout);
  }

  /** @internal called by the server for a message routed here. */
  deliver(msg: Msg): void {
    if (this.done) return;
    this.received++;
    this.owner.countReceived(msg.data.length);
    this.clearTimer();
    this.invoke(null, msg);
    if (!this.iterator) this.processed++;
    if (this.max !== undefined && this.received >= this.max) this.close();
  }

  /** @internal */
  close(): void {
    if (this.done) return;
    this.done = true;
    this.clearTimer();
    this.server.remove(this);
    this.owner.forget(this);
    this.iterator?.end();
    this.resolveClosed();
  }

  unsubscribe(max?: number): void {
    if (this.done) return;
    if (max) {
      this.max = max;
      if (this.received < max) return;
    }
    this.close();
  }

  drain(): Promise<void> {
    if (this.owner.isClosed()) return Promise.reject(new errors.ClosedConnectionError());
    if (this.done) return Promise.reject(new errors.InvalidOperationError('subscription is already closed'));
    this.draining ??= new Promise<void>((resolve) => {
      this.server.remove(this);
      // Messages already routed here are still delivered; then the subscription closes.
      this.server.schedule(() => {
        this.close();
        resolve();
      });
    });
    return this.draining;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.owner.isClosed() || this.done) return;
    await this.drain();
  }

  [Symbol.asyncIterator](): AsyncIterator<Msg> {
    if (!this.iterator) throw new errors.InvalidOperationError('iterator cannot be used when a callback is registered');
    return this.iterator[Symbol.asyncIterator]();
  }

  isDraining(): boolean {
    return this.draining !== undefined;
  }

  isClosed(): boolean {
    return this.done;
  }

  getSubject(): string {
    return this.subject;
  }

  getReceived(): number {
    return this.received;
  }

  getProcessed(): number {
    return this.iterator ? this.iterator.yielded : this.processed;
  }

  getPending(): number {
    return this.iterator ? this.iterator.size : 0;
  }

  getID(): number {
    return this.sid;
  }

  getMax(): number | undefined {
    return this.max;
  }

  /** No message within the `timeout` option: the subscription fails with a `TimeoutError`, as in nats.js. */
  private expire(): void {
    this.timer = undefined;
    const error = new errors.TimeoutError();
    if (this.iterator) this.iterator.end(error);
    // nats.js hands callbacks an empty message along with the error.
    else this.invoke(error, {} as Msg);
    this.close();
  }

  private invoke(error: Error | null, msg: Msg): void {
    try {
      const result = this.callback(error, msg);
      if (result instanceof Promise) result.catch((cause: unknown) => this.owner.reportError(cause));
    } catch (cause) {
      this.owner.reportError(cause);
    }
  }

  private clearTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** A message as a receiver sees it: its own data and headers; `respond` publishes through the receiver's connection. */
class InProcessMsg implements Msg {
  constructor(
    readonly subject: string,
    readonly sid: number,
    readonly data: Uint8Array,
    readonly headers: MsgHdrs | undefined,
    readonly reply: string | undefined,
    private readonly receiver: InProcessNats,
  ) {}

  respond(payload?: Payload, options?: PublishOptions): boolean {
    if (!this.reply) return false;
    this.receiver.respondTo(this.reply, payload, options);
    return true;
  }

  json<T>(reviver?: Parameters<Msg['json']>[0]): T {
    return JSON.parse(this.string(), reviver) as T;
  }

  string(): string {
    return decoder.decode(this.data);
  }
}

/** A single-consumer async queue: subscription iterators and status streams. */
class AsyncQueue<T> implements AsyncIterable<T> {
  yielded = 0;
  private readonly items: T[] = [];
  private wake?: () => void;
  private ended = false;
  private error?: Error;
  private iterating = false;

  constructor(private readonly onStop: () => void) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.ended) return;
    this.items.push(item);
    this.signal();
  }

  /** Ends the iteration once queued items are consumed (throwing `error` then, if given). */
  end(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.error = error;
    this.signal();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    if (this.iterating) throw new errors.InvalidOperationError('iterator is already yielding');
    this.iterating = true;
    try {
      for (;;) {
        if (this.items.length > 0) {
          this.yielded++;
          yield this.items.shift() as T;
          continue;
        }
        if (this.ended) {
          if (this.error) throw this.error;
          return;
        }
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
    } finally {
      this.onStop();
    }
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

const servers = new Map<string, InProcessServer>();

function attachServer(name: string): InProcessServer {
  let server = servers.get(name);
  if (!server) servers.set(name, (server = new InProcessServer(name)));
  return server;
}

/** The last connection gone, the server goes too (with its duplicate windows): nothing outlives its users. */
function detachServer(server: InProcessServer, connection: InProcessNats): void {
  server.connections.delete(connection);
  if (server.connections.size === 0 && servers.get(server.name) === server) servers.delete(server.name);
}

function serverName(url: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url.trim());
  } catch {
    parsed = undefined;
  }
  if (parsed?.protocol !== 'inproc:' || !parsed.host || (parsed.pathname !== '' && parsed.pathname !== '/')) {
    throw errors.InvalidArgumentError.format('url', `must be inproc://<name> (got '${url}')`);
  }
  return parsed.host.toLowerCase();
}

function tokensMatch(pattern: readonly string[], subject: readonly string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const token = pattern[i];
    if (token === '>') return subject.length > i;
    if (i >= subject.length || (token !== '*' && token !== subject[i])) return false;
  }
  return pattern.length === subject.length;
}

function isValidSubject(subject: string, wildcards: boolean): boolean {
  if (subject.length === 0 || WHITESPACE.test(subject)) return false;
  const tokens = subject.split('.');
  return tokens.every(
    (token, index) =>
      token.length > 0 && (wildcards ? token !== '>' || index === tokens.length - 1 : token !== '*' && token !== '>'),
  );
}

/** nats.js wraps every request failure but a timeout in a `RequestError` caused by it. */
function requestError(cause: Error): Error {
  return new errors.RequestError(cause.message, { cause });
}

function toBytes(payload: Payload | undefined): Uint8Array {
  if (payload === undefined) return new Uint8Array(0);
  if (typeof payload === 'string') return encoder.encode(payload);
  if (payload instanceof Uint8Array) return payload.slice();
  throw new TypeError('payload types can be strings or Uint8Array');
}

function copyHeaders(source: MsgHdrs | undefined): MsgHdrs | undefined {
  if (!source) return undefined;
  const copy = source.code > 0 ? natsHeaders(source.code, source.description || String(source.code)) : natsHeaders();
  for (const [key, values] of source) for (const value of values) copy.append(key, value);
  return copy;
}
