import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  diffieHellman,
  hkdfSync,
  randomBytes,
  sign,
  timingSafeEqual,
  verify,
  type KeyObject,
} from 'node:crypto';
import { ContextHeader, type HeaderBag } from '#polystore/tenancy';
import { MessagingException } from './messaging.exception.js';

/** Headers added to a request by {@link ContextSigner}. */
export const SignatureHeader = {
  /** Epoch milliseconds at which the sender signed. */
  ISSUED_AT: 'Ps-Issued-At',
  /** The sender's Ed25519-signed ticket for the target service (see {@link ContextSigner}). */
  TICKET: 'Ps-Context-Ticket',
  /** base64url HMAC-SHA256 of the message's context under the ticket's session key. */
  SIGNATURE: 'Ps-Signature',
  /**
   * The sender's inbox prefix: the answer may go only to a reply subject under it, where only the
   * sender's bus credentials may listen. A captured request sent again with another reply
   * subject is refused, so its copy can never be read by whoever sent it.
   */
  REPLY_PREFIX: 'Ps-Reply-Prefix',
} as const;

/** nats.js's inbox prefix when a connection names none (a signed request's default reply prefix). */
export const DEFAULT_INBOX_PREFIX = '_INBOX';

const VERSION = 'ps-ctx-v1';
// What a message's MAC covers changed with the reply prefix (v2): a v1 MAC never verifies as v2.
const MESSAGE_VERSION = 'ps-msg-v2';
const TICKET_INFO = Buffer.from('polystore context ticket v1');
// DER wrappers of raw 32-byte keys (RFC 8410): Ed25519 and X25519 private (PKCS#8) and public (SPKI).
const DER = {
  ed25519Private: Buffer.from('302e020100300506032b657004220420', 'hex'),
  ed25519Public: Buffer.from('302a300506032b6570032100', 'hex'),
  x25519Private: Buffer.from('302e020100300506032b656e04220420', 'hex'),
  x25519Public: Buffer.from('302a300506032b656e032100', 'hex'),
};
/** How long a ticket is valid, and how old it gets before the sender makes a new one. */
const TICKET_LIFETIME_MS = 10 * 60_000;
const TICKET_RENEW_AFTER_MS = 5 * 60_000;

function rawKey(text: string, what: string): Buffer {
  const trimmed = text.trim();
  const raw = Buffer.from(trimmed, /[-_]/.test(trimmed) ? 'base64url' : 'base64');
  if (raw.length !== 32) throw new Error(`${what} must be 32 bytes encoded as base64`);
  return raw;
}

/** The id a key travels under: 16 base64url characters of the SHA-256 of the raw public key. */
function keyIdOf(rawPublicKey: Buffer): string {
  return createHash('sha256').update(rawPublicKey).digest('base64url').slice(0, 16);
}

function rawPublicOf(key: KeyObject): Buffer {
  const der = key.export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - 32);
}

function privateKeyOf(prefix: Buffer, seed: Buffer): KeyObject {
  return createPrivateKey({ key: Buffer.concat([prefix, seed]), format: 'der', type: 'pkcs8' });
}

function publicKeyOf(prefix: Buffer, raw: Buffer): KeyObject {
  return createPublicKey({ key: Buffer.concat([prefix, raw]), format: 'der', type: 'spki' });
}

/** The AES key that seals a ticket's session key: HKDF over the X25519 agreement of the two parties. */
function sealingKey(privateKey: KeyObject, publicKey: KeyObject, ephemeral: Buffer, recipient: Buffer): Buffer {
  const shared = diffieHellman({ privateKey, publicKey });
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeral, recipient]), TICKET_INFO, 32));
}

/**
 * What each message's MAC covers: the subject, the reply prefix, every context header as sent,
 * the signing time, the ticket and the SHA-256 of the body (which holds the request's unique id).
 * Header values cannot contain line breaks (NATS refuses them), so the lines cannot shift into
 * one another.
 */
function signedText(subject: string, headers: HeaderBag, issuedAt: string, ticket: string, body: Uint8Array): string {
  return [
    MESSAGE_VERSION,
    subject,
    headers.get(SignatureHeader.REPLY_PREFIX),
    headers.get(ContextHeader.TENANT),
    headers.get(ContextHeader.ACTOR),
    headers.get(ContextHeader.CORRELATION_ID),
    headers.get(ContextHeader.DEADLINE),
    issuedAt,
    ticket,
    createHash('sha256').update(body).digest('base64url'),
  ].join('\n');
}

/** The Ed25519-signed part of a ticket. */
function ticketBody(signerId: string, service: string, recipientId: string, expiresAt: number, sealed: string): string {
  return [VERSION, signerId, service, recipientId, String(expiresAt), sealed].join('.');
}

/** A raw X25519 private key of a store service and its public key (base64). */
export interface StoreContextKey {
  readonly privateKey: string;
  readonly publicKey: string;
}

/** A new X25519 key pair for a store service (`polystore context-key generate`). */
export function newStoreContextKey(seed: Buffer = randomBytes(32)): StoreContextKey {
  const privateKey = privateKeyOf(DER.x25519Private, seed);
  return {
    privateKey: seed.toString('base64'),
    publicKey: rawPublicOf(createPublicKey(privateKey)).toString('base64'),
  };
}

/**
 * Development and tests only: a store service's X25519 key derived from the signing seed, so a
 * local stack needs one secret. Production gives each store a key of its own.
 */
export function derivedStoreContextKey(signingSeed: Buffer, service: string): StoreContextKey {
  return newStoreContextKey(
    Buffer.from(hkdfSync('sha256', signingSeed, Buffer.alloc(0), `polystore store key ${service}`, 32)),
  );
}

/** The public key (base64) of an Ed25519 signing seed: what stores list in CONTEXT_VERIFY_KEYS. */
export function contextPublicKeyOf(seed: Buffer): string {
  return rawPublicOf(createPublicKey(privateKeyOf(DER.ed25519Private, seed))).toString('base64');
}

interface Session {
  /** A `KeyObject`: Node 24 imports a raw Buffer key anew for each HMAC, five times the HMAC's cost. */
  readonly key: KeyObject;
  readonly ticket: string;
  readonly renewAt: number;
}

/**
 * Signs the context of every request a trusted sender (the gateway, the CLI) puts on the bus.
 *
 * Per target service the signer keeps a session: a random 32-byte key sealed to that service's
 * X25519 public key (so only its replicas can read it) inside a ticket signed with the sender's
 * Ed25519 key (so stores know the gateway made it), renewed every 5 minutes, valid 10. Each
 * message carries the ticket and an HMAC-SHA256, under the session key, of its subject, tenant,
 * actor, correlation id, deadline, signing time and payload digest. Stores check the ticket once
 * per session and each message with one HMAC: an Ed25519 verification per message costs about
 * 0.1-0.25 ms of CPU here, a fifth of a whole read (bench/context.mjs). A store's key opens only
 * the sessions meant for that store: the edge store cannot forge a request to the secure store.
 */
export class ContextSigner {
  /** Id of the Ed25519 key, as tickets name it. */
  readonly keyId: string;
  /** The raw Ed25519 public key, base64: what stores list in CONTEXT_VERIFY_KEYS. */
  readonly publicKey: string;
  private readonly signingKey: KeyObject;
  private readonly recipients = new Map<string, { id: string; raw: Buffer; key: KeyObject }>();
  private readonly sessions = new Map<string, Session>();

  /**
   * @param seed the raw 32-byte Ed25519 seed (CONTEXT_SIGNING_KEY)
   * @param storeKeyOf each store service's X25519 public key, base64 (CONTEXT_STORE_KEYS);
   *   undefined for a service it must not sign for
   */
  constructor(
    seed: Buffer,
    private readonly storeKeyOf: (service: string) => string | undefined,
  ) {
    if (seed.length !== 32) throw new Error('a context signing key must be a 32-byte Ed25519 seed');
    this.signingKey = privateKeyOf(DER.ed25519Private, seed);
    const raw = rawPublicOf(createPublicKey(this.signingKey));
    this.keyId = keyIdOf(raw);
    this.publicKey = raw.toString('base64');
  }

  /** A signer whose store keys are derived from its own seed ({@link derivedStoreContextKey}): development and tests. */
  static derived(seed: Buffer): ContextSigner {
    return new ContextSigner(seed, (service) => derivedStoreContextKey(seed, service).publicKey);
  }

  /**
   * Adds {@link SignatureHeader} values to `headers`, which must already hold the context, for a
   * message to `service` on `subject` whose answer goes to a reply subject under `replyPrefix`
   * (the sending connection's inbox prefix). Throws when the signer has no key for `service`.
   */
  sign(
    subject: string,
    service: string,
    headers: HeaderBag,
    body: Uint8Array,
    now = Date.now(),
    replyPrefix = DEFAULT_INBOX_PREFIX,
  ): void {
    const session = this.session(service, now);
    const issuedAt = String(now);
    headers.set(SignatureHeader.REPLY_PREFIX, replyPrefix);
    const mac = createHmac('sha256', session.key)
      .update(signedText(subject, headers, issuedAt, session.ticket, body))
      .digest('base64url');
    headers.set(SignatureHeader.ISSUED_AT, issuedAt);
    headers.set(SignatureHeader.TICKET, session.ticket);
    headers.set(SignatureHeader.SIGNATURE, mac);
  }

  private session(service: string, now: number): Session {
    const current = this.sessions.get(service);
    if (current && now < current.renewAt) return current;
    const recipient = this.recipient(service);
    const key = randomBytes(32);
    const ephemeralSeed = randomBytes(32);
    const ephemeral = privateKeyOf(DER.x25519Private, ephemeralSeed);
    const ephemeralPublic = rawPublicOf(createPublicKey(ephemeral));
    const iv = randomBytes(12);
    const expiresAt = now + TICKET_LIFETIME_MS;
    const cipher = createCipheriv(
      'aes-256-gcm',
      sealingKey(ephemeral, recipient.key, ephemeralPublic, recipient.raw),
      iv,
    );
    cipher.setAAD(Buffer.from(`${service}.${expiresAt}`));
    const sealed = Buffer.concat([ephemeralPublic, iv, cipher.update(key), cipher.final(), cipher.getAuthTag()]);
    const body = ticketBody(this.keyId, service, recipient.id, expiresAt, sealed.toString('base64url'));
    const signature = sign(null, Buffer.from(body), this.signingKey).toString('base64url');
    const session = { key: createSecretKey(key), ticket: `${body}.${signature}`, renewAt: now + TICKET_RENEW_AFTER_MS };
    this.sessions.set(service, session);
    return session;
  }

  private recipient(service: string): { id: string; raw: Buffer; key: KeyObject } {
    const known = this.recipients.get(service);
    if (known) return known;
    const text = this.storeKeyOf(service);
    if (text === undefined) throw new Error(`no context key for ${service}: add it to CONTEXT_STORE_KEYS`);
    const raw = rawKey(text, `the context key of ${service}`);
    const recipient = { id: keyIdOf(raw), raw, key: publicKeyOf(DER.x25519Public, raw) };
    this.recipients.set(service, recipient);
    return recipient;
  }
}

export interface ContextVerifierOptions {
  /** How far a sender's clock may run ahead of ours. */
  readonly clockSkewMs?: number;
  /** Longest accepted span from signing to deadline (and so the longest a signature lives). */
  readonly maxLifetimeMs?: number;
  /** Most signatures remembered at once for replay detection; beyond it, new messages are refused. */
  readonly maxRemembered?: number;
}

/**
 * Checks a request's signed context before its handler runs (see {@link ContextSigner}). A
 * message is refused, with a coded error and without effect, when it is unsigned
 * (`CONTEXT_UNSIGNED`); when its ticket is not signed by an accepted key, is for another
 * service, or does not open with this store's key, or its MAC does not match its subject,
 * headers or payload (`CONTEXT_INVALID`); when its ticket has expired, or it was signed in the
 * future or for longer than `maxLifetimeMs` (`CONTEXT_EXPIRED`); when its reply subject is not
 * under the inbox prefix it was signed with (`CONTEXT_INVALID`); or when this process has seen it
 * before (`CONTEXT_REPLAYED`). One past its deadline is left to the server's `DEADLINE_EXCEEDED`.
 *
 * Several senders' public keys, and several keys of the store's own, are accepted at once, so
 * either can be rotated with an overlap. Opened tickets are cached (one Ed25519 verification and
 * one X25519 agreement per session), so a message costs one HMAC. Replays are detected here per
 * process, until each message's deadline; a copy of a command delivered to another replica is
 * caught by the service's shared `ReplayMemory`, and the answer to a copy of a read goes
 * only to the original sender's inbox.
 */
export class ContextVerifier {
  private readonly senders = new Map<string, KeyObject>();
  private readonly ownKeys = new Map<string, { raw: Buffer; key: KeyObject }>();
  private readonly tickets = new Map<string, { key: KeyObject; expiresAt: number }>();
  private readonly seen = new Map<string, number>();
  private nextSweep = 0;
  private readonly clockSkewMs: number;
  private readonly maxLifetimeMs: number;
  private readonly maxRemembered: number;

  /**
   * @param service the store service this verifier guards (tickets for others are refused)
   * @param senderKeys the senders' Ed25519 public keys, base64 (CONTEXT_VERIFY_KEYS)
   * @param ownKeys this service's X25519 private keys, base64 (CONTEXT_STORE_KEY)
   */
  constructor(
    private readonly service: string,
    senderKeys: readonly string[],
    ownKeys: readonly string[],
    options: ContextVerifierOptions = {},
  ) {
    if (senderKeys.length === 0) throw new Error('a context verifier needs at least one public key');
    if (ownKeys.length === 0) throw new Error(`a context verifier needs the context key of ${service}`);
    for (const text of senderKeys) {
      const raw = rawKey(text, 'a context verify key');
      this.senders.set(keyIdOf(raw), publicKeyOf(DER.ed25519Public, raw));
    }
    for (const text of ownKeys) {
      const own = newStoreContextKey(rawKey(text, `the context key of ${service}`));
      const raw = Buffer.from(own.publicKey, 'base64');
      this.ownKeys.set(keyIdOf(raw), {
        raw,
        key: privateKeyOf(DER.x25519Private, Buffer.from(own.privateKey, 'base64')),
      });
    }
    this.clockSkewMs = options.clockSkewMs ?? 30_000;
    this.maxLifetimeMs = options.maxLifetimeMs ?? 10 * 60_000;
    this.maxRemembered = options.maxRemembered ?? 1_000_000;
  }

  /**
   * How long a signature may be presented: its longest lifetime plus the clock skew allowed. A
   * memory of signatures seen (this one's, or a `ReplayMemory`) must keep each this long.
   */
  get replayWindowMs(): number {
    return this.maxLifetimeMs + this.clockSkewMs;
  }

  /** Signatures remembered for replay detection right now. */
  get remembered(): number {
    return this.seen.size;
  }

  /**
   * Undefined when the message may run; otherwise the error to answer it with. `reply` is the
   * message's reply subject (none: nobody gets an answer, so there is nothing to bind).
   */
  check(
    subject: string,
    headers: HeaderBag | undefined,
    body: Uint8Array,
    now = Date.now(),
    reply?: string,
  ): MessagingException | undefined {
    const mac = headers?.get(SignatureHeader.SIGNATURE) ?? '';
    const ticket = headers?.get(SignatureHeader.TICKET) ?? '';
    if (!headers || mac === '' || ticket === '') return MessagingException.contextUnsigned(subject);
    const session = this.open(ticket, now, subject);
    if (session instanceof MessagingException) return session;

    const issuedAtText = headers.get(SignatureHeader.ISSUED_AT);
    const issuedAt = Number(issuedAtText);
    const deadline = Number(headers.get(ContextHeader.DEADLINE));
    if (!Number.isSafeInteger(issuedAt) || !Number.isSafeInteger(deadline))
      return MessagingException.contextInvalid(subject, 'signing time or deadline missing');
    const expected = createHmac('sha256', session.key)
      .update(signedText(subject, headers, issuedAtText, ticket, body))
      .digest();
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return MessagingException.contextInvalid(subject, 'signature does not match the message');
    const replyPrefix = headers.get(SignatureHeader.REPLY_PREFIX) ?? '';
    if (replyPrefix === '') return MessagingException.contextInvalid(subject, 'reply prefix missing');
    if (reply !== undefined && reply !== '' && !reply.startsWith(`${replyPrefix}.`))
      return MessagingException.contextInvalid(subject, "reply subject is not the signer's");

    if (issuedAt > now + this.clockSkewMs || deadline - issuedAt > this.maxLifetimeMs)
      return MessagingException.contextExpired(subject);
    return this.remember(mac, deadline, now, subject);
  }

  /** The session key of `ticket`, from the cache or by checking and opening it. */
  private open(ticket: string, now: number, subject: string): { key: KeyObject } | MessagingException {
    const cached = this.tickets.get(ticket);
    if (cached) return cached.expiresAt > now ? cached : MessagingException.contextExpired(subject);
    const parts = ticket.split('.');
    if (parts.length !== 7 || parts[0] !== VERSION)
      return MessagingException.contextInvalid(subject, 'malformed ticket');
    const [, signerId, service, recipientId, expiresText, sealedText, signatureText] = parts as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const sender = this.senders.get(signerId);
    if (!sender) return MessagingException.contextInvalid(subject, 'signed by an unknown key');
    const body = ticketBody(signerId, service, recipientId, Number(expiresText), sealedText);
    if (
      body !== parts.slice(0, 6).join('.') ||
      !verify(null, Buffer.from(body), sender, Buffer.from(signatureText, 'base64url'))
    )
      return MessagingException.contextInvalid(subject, 'ticket signature does not match');
    if (service !== this.service) return MessagingException.contextInvalid(subject, `ticket is for ${service}`);
    const own = this.ownKeys.get(recipientId);
    if (!own) return MessagingException.contextInvalid(subject, 'ticket is sealed to an unknown key of this service');
    const expiresAt = Number(expiresText);
    if (expiresAt <= now || expiresAt > now + TICKET_LIFETIME_MS + this.clockSkewMs)
      return MessagingException.contextExpired(subject);
    const sealed = Buffer.from(sealedText, 'base64url');
    if (sealed.length !== 32 + 12 + 32 + 16) return MessagingException.contextInvalid(subject, 'malformed ticket');
    try {
      const ephemeral = sealed.subarray(0, 32);
      const decipher = createDecipheriv(
        'aes-256-gcm',
        sealingKey(own.key, publicKeyOf(DER.x25519Public, ephemeral), ephemeral, own.raw),
        sealed.subarray(32, 44),
      );
      decipher.setAAD(Buffer.from(`${service}.${expiresAt}`));
      decipher.setAuthTag(sealed.subarray(76));
      const key = Buffer.concat([decipher.update(sealed.subarray(44, 76)), decipher.final()]);
      // Bounded: a sender makes a ticket per service every 5 minutes, so old ones go first.
      if (this.tickets.size >= 10_000) this.tickets.delete(this.tickets.keys().next().value!);
      const session = { key: createSecretKey(key), expiresAt };
      this.tickets.set(ticket, session);
      return session;
    } catch {
      return MessagingException.contextInvalid(subject, 'ticket does not open with this service key');
    }
  }

  private remember(signature: string, deadline: number, now: number, subject: string): MessagingException | undefined {
    if (now >= this.nextSweep) {
      this.nextSweep = now + 1_000;
      for (const [seen, until] of this.seen) if (until <= now) this.seen.delete(seen);
    }
    if (this.seen.has(signature)) return MessagingException.contextReplayed(subject);
    if (this.seen.size >= this.maxRemembered)
      return MessagingException.contextInvalid(subject, 'replay memory is full');
    this.seen.set(signature, deadline);
    return undefined;
  }
}
