import { readFileSync } from 'node:fs';
import { connect, type NatsConnection, type TlsOptions } from '@nats-io/transport-node';
import { busAuthenticator, busInboxPrefix, isBusService } from './bus-auth.js';
import { DEFAULT_INBOX_PREFIX } from './context-signature.js';
import { InProcessNats, isInProcessUrl } from './in-process-nats.js';

/**
 * TLS to the NATS servers. The server's certificate is always verified (chain and host name, or
 * IP address, as in the URL): against `ca` / `caFile` when given, else Node's public CAs.
 */
export interface NatsTls {
  /** PEM of the CA(s) that signed the servers' certificates (NATS_TLS_CA, or NATS_TLS_CA_FILE). */
  readonly ca?: string;
  /** The same, as a file read once when the connection is set up (reconnects reuse it). */
  readonly caFile?: string;
}

/** Connection settings shared by clients and servers. */
export interface NatsSettings {
  /**
   * `nats://` / `tls://` servers (comma-separated), or `inproc://<name>` for the in-process
   * transport. A `tls://` server, or a CA in {@link tls}, makes TLS required: a server that does
   * not offer it is refused instead of being used in plaintext.
   */
  readonly url: string;
  /**
   * Client name shown by the NATS server (`<service>:<instance>`). A service of the bus gets its
   * own inbox prefix from it ({@link busInboxPrefix}), the only inbox its credentials may read.
   */
  readonly name: string;
  /** The service's NKey seed on an authenticated bus (NATS_NKEY_SEED); none on an open one. */
  readonly nkeySeed?: string;
  readonly tls?: NatsTls;
}

/**
 * The `tls` option of a NATS connection to `url`: set (TLS required, verified against the CA)
 * when a server is `tls://` or a CA is given; absent otherwise (nats.js still upgrades to TLS,
 * verified against Node's public CAs, when a server requires it). Throws, naming the file, when
 * `caFile` cannot be read.
 */
export function natsTlsOption(url: string, tls: NatsTls | undefined): { tls?: TlsOptions } {
  let ca = tls?.ca;
  if (ca === undefined && tls?.caFile !== undefined) {
    try {
      ca = readFileSync(tls.caFile, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new Error(`NATS TLS CA file ${tls.caFile} cannot be read (${code})`, { cause: error });
    }
  }
  const required = url.split(',').some((server) => server.trim().toLowerCase().startsWith('tls://'));
  if (ca === undefined && !required) return {};
  return { tls: ca === undefined ? {} : { ca } };
}

/**
 * Connects to NATS and keeps reconnecting forever: a NATS outage makes requests fail with
 * `SERVICE_UNAVAILABLE` but never kills the process, and traffic resumes when NATS returns.
 *
 * `inproc://<name>` connects instead to the in-process server `<name>` ({@link InProcessNats}):
 * every connection of the process opened on that name reaches the others, without a NATS server.
 */
export function connectNats(settings: NatsSettings): Promise<NatsConnection> {
  if (isInProcessUrl(settings.url))
    return InProcessNats.connect(settings.url, settings.name, inboxPrefixOf(settings.name));
  return connect({
    servers: settings.url.split(','),
    name: settings.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
    pingInterval: 10_000,
    // nats.js otherwise builds an Error per request just to keep a stack for a later failure.
    noAsyncTraces: true,
    ...(settings.nkeySeed ? { authenticator: busAuthenticator(settings.nkeySeed) } : {}),
    inboxPrefix: inboxPrefixOf(settings.name),
    ...natsTlsOption(settings.url, settings.tls),
  });
}

/**
 * The inbox prefix of a connection named `name`: {@link busInboxPrefix} when the name starts
 * with a bus service's (`gateway:...`), else nats.js's default, `_INBOX`. The replies to the
 * connection's requests come under `<prefix>.`, and a signed request names that prefix.
 */
export function inboxPrefixOf(name: string): string {
  const service = name.split(':')[0]!;
  return isBusService(service) ? busInboxPrefix(service) : DEFAULT_INBOX_PREFIX;
}
