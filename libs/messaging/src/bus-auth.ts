import { nkeyAuthenticator, type Authenticator } from '@nats-io/transport-node';
import { createUser, fromSeed } from '@nats-io/nkeys';
import { replayStreamName, replaySubject } from './replay-memory.js';

/** Every process that connects to the bus, each with credentials of its own. */
export const BUS_SERVICES = ['gateway', 'cli', 'secure-store', 'reliable-store', 'edge-store'] as const;
export type BusService = (typeof BUS_SERVICES)[number];

/** What one service may do on the bus (NATS subject permissions). */
export interface BusPermissions {
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
  /** May answer the requests it receives (publish to their reply subjects only). */
  readonly allowResponses: boolean;
}

/** Whether `name` is one of {@link BUS_SERVICES}. */
export function isBusService(name: string): name is BusService {
  return (BUS_SERVICES as readonly string[]).includes(name);
}

/**
 * The inbox prefix of a service's connection (`_INBOX.<service>`): the replies to its requests
 * (and its JetStream acknowledgements) come there, and only it may listen there. With the shared
 * default (`_INBOX.<random>`), whoever may listen on `_INBOX.>` reads every caller's replies: the
 * secure store's decrypted answers to the gateway included.
 */
export function busInboxPrefix(service: BusService): string {
  return `_INBOX.${service}`;
}

// The first token of every subject is the deployment prefix (NATS_SUBJECT_PREFIX, one token).
const CATALOG_EVENTS = '*.catalog.>';
const STORE_SUBJECTS = ['*.secure.>', '*.reliable.>', '*.edge.>'];

/**
 * What a store needs for its replay memory (`openReplayMemory`): publish its claims, and
 * create, update or read its own stream (named exactly), the answers coming to its own inbox.
 */
function replayMemoryPermissions(service: BusService): { publish: string[]; subscribe: string[] } {
  const stream = replayStreamName(service);
  return {
    publish: [
      `*.${replaySubject(service)}`,
      `$JS.API.STREAM.INFO.${stream}`,
      `$JS.API.STREAM.CREATE.${stream}`,
      `$JS.API.STREAM.UPDATE.${stream}`,
    ],
    subscribe: [`${busInboxPrefix(service)}.>`],
  };
}

/**
 * Least privilege per service: callers (gateway, CLI) may send requests to the stores and
 * broadcast catalog changes; each store may receive only its own subjects, answer them, publish
 * only its own events and claim signatures in its own replay memory. No store can send a request
 * to another store, and nobody else can receive a store's requests, or the answers: each goes to
 * its caller's own inbox prefix ({@link busInboxPrefix}), where no other service may listen.
 */
export function busPermissions(service: BusService): BusPermissions {
  switch (service) {
    case 'gateway':
    case 'cli':
      return {
        publish: [...STORE_SUBJECTS, CATALOG_EVENTS],
        subscribe: [`${busInboxPrefix(service)}.>`, CATALOG_EVENTS],
        allowResponses: false,
      };
    case 'secure-store': {
      const replay = replayMemoryPermissions(service);
      return {
        publish: replay.publish,
        subscribe: ['*.secure.>', CATALOG_EVENTS, ...replay.subscribe],
        allowResponses: true,
      };
    }
    case 'reliable-store': {
      const replay = replayMemoryPermissions(service);
      // The outbox relay publishes its events into a JetStream stream it creates or updates.
      return {
        publish: [
          '*.events.reliable.>',
          '$JS.API.INFO',
          '$JS.API.STREAM.INFO.*',
          '$JS.API.STREAM.CREATE.*',
          '$JS.API.STREAM.UPDATE.*',
          // Its replay memory's claims (the stream API calls above cover its stream).
          `*.${replaySubject(service)}`,
        ],
        subscribe: ['*.reliable.>', CATALOG_EVENTS, ...replay.subscribe],
        allowResponses: true,
      };
    }
    case 'edge-store': {
      const replay = replayMemoryPermissions(service);
      return {
        publish: ['*.edge.device.revoked', ...replay.publish],
        subscribe: ['*.edge.>', CATALOG_EVENTS, ...replay.subscribe],
        allowResponses: true,
      };
    }
  }
}

/** A new NKey seed (`SU...`) for a bus user. */
export function newBusSeed(): string {
  return new TextDecoder().decode(createUser().getSeed());
}

/** The public NKey (`U...`) of a bus user's seed; throws on anything but a user seed. */
export function busPublicKeyOf(seed: string): string {
  const key = fromSeed(new TextEncoder().encode(seed.trim()));
  const publicKey = key.getPublicKey();
  if (!publicKey.startsWith('U')) throw new Error('a bus seed must be a NATS user NKey seed (SU...)');
  return publicKey;
}

/** The authenticator of a service's connection (NATS_NKEY_SEED). */
export function busAuthenticator(seed: string): Authenticator {
  return nkeyAuthenticator(new TextEncoder().encode(seed.trim()));
}

export interface BusServerOptions {
  readonly serverName: string;
  readonly host: string;
  readonly port: number;
  /** JetStream's store directory. */
  readonly storeDir: string;
  /** Each service's public NKey. */
  readonly users: ReadonlyArray<{ readonly service: BusService; readonly publicKey: string }>;
  /**
   * TLS on the client port (PEM files, read by nats-server): clients must then speak TLS
   * (`tls://` URLs, NATS_TLS_CA_FILE naming the CA that signed the certificate).
   */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
}

const quote = (value: string): string => JSON.stringify(value);
const list = (values: readonly string[]): string => `[${values.map(quote).join(', ')}]`;

/**
 * The nats-server configuration of the bus: NKey users with {@link busPermissions}, JetStream,
 * no anonymous access (a client without credentials is refused at connect), optionally TLS on
 * the client port. Works on nats-server 2.9 and later.
 */
export function busServerConfig(options: BusServerOptions): string {
  const users = options.users.map(({ service, publicKey }) => {
    const permissions = busPermissions(service);
    const publish = permissions.publish.length > 0 ? `{ allow: ${list(permissions.publish)} }` : '{ deny: [">"] }';
    return [
      `    # ${service}`,
      `    { nkey: ${quote(publicKey)}, permissions: {`,
      `        publish: ${publish}`,
      `        subscribe: { allow: ${list(permissions.subscribe)} }`,
      ...(permissions.allowResponses ? ['        allow_responses: true'] : []),
      '    } }',
    ].join('\n');
  });
  return [
    '# The Polystore bus, written by `polystore bus config`: do not edit, it is rewritten.',
    `server_name: ${quote(options.serverName)}`,
    `host: ${quote(options.host)}`,
    `port: ${options.port}`,
    `jetstream { store_dir: ${quote(options.storeDir)} }`,
    ...(options.tls
      ? [`tls { cert_file: ${quote(options.tls.certFile)}, key_file: ${quote(options.tls.keyFile)} }`]
      : []),
    'authorization {',
    '  users: [',
    ...users,
    '  ]',
    '}',
    '',
  ].join('\n');
}
